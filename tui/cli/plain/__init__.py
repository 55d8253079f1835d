"""`bedrock-tune new --plain`: the wizard as questions in the normal terminal (questionary), for
SSH sessions, notebook terminals and screen readers.

One module per group of steps (`where`, `model`, `data`, `prepare`, `infra`, `job`, `serving`,
`finish`), each asking through `ask.Asker` and calling the same core functions as the app's
screens, over the same `Run`, saved in the same registry; `flow` walks the route's steps in
core's order.
"""
