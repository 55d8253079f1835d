"""The client request token a launch sends: kept for a retry of the same job, new otherwise."""

from __future__ import annotations

from dataclasses import replace

from core.jobs.launching import with_launch_token
from core.run import Run


def test_a_retry_of_the_same_job_keeps_its_token() -> None:
    tried = Run(run_id="r", job_name="job-a", client_request_token="tok-1")
    again = with_launch_token(tried, replace(tried, hyperparameters={"epochCount": "2"}))
    assert again.client_request_token == "tok-1"
    assert again.hyperparameters == {"epochCount": "2"}


def test_another_job_name_or_no_earlier_try_gets_a_new_token() -> None:
    tried = Run(run_id="r", job_name="job-a", client_request_token="tok-1")
    renamed = with_launch_token(tried, replace(tried, job_name="job-b"))
    assert renamed.client_request_token not in (None, "tok-1")
    fresh = Run(run_id="r", job_name="job-a")
    first = with_launch_token(fresh, fresh)
    second = with_launch_token(fresh, fresh)
    assert first.client_request_token and second.client_request_token
    assert first.client_request_token != second.client_request_token
