"""Replaying a recipe headless (`bedrock-tune replay FILE`): the route's steps, in order,
through the same core the TUI's screens use, with the run recorded in the registry after every
change, so that a rerun after a kill continues where the first one stopped and nothing billable
is created twice.

`start` finds the recipe's run again (or starts one), `steps` says which steps a route replays
and which of them bill, `checks` checks the recipe against the world before anything is made,
`work` (customization, and the data steps of every route that trains), `training`
(sagemaker-import's training) and `importing` (the import steps) do each step with what `shop`
gives them, and `engine.replay` walks them.
"""
