"""ScheduledWatchdog: an EventBridge schedule, its Lambda target and the invoke permission."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from stack_testing import Synthesized, ref

from infrastructure.components.watchdog import ScheduledWatchdog

NAME = "dr-test-failover-watchdog"


@dataclass
class Built:
    function: LambdaFunction
    watchdog: ScheduledWatchdog


@pytest.fixture(scope="session")
def watchdog(synth_stack: Callable[..., Synthesized]) -> Synthesized:
    def build(stack: TerraformStack) -> Built:
        function = LambdaFunction(
            stack,
            "function",
            function_name="dr-test-failover",
            role="arn:aws:iam::123456789012:role/test",
            handler="handler.handler",
            runtime="python3.12",
            filename="code.zip",
        )
        return Built(
            function,
            ScheduledWatchdog(
                stack,
                "watchdog",
                name=NAME,
                function=function,
                schedule_expression="rate(1 minute)",
            ),
        )

    return synth_stack("watchdog", build)


def test_rule_runs_on_the_given_schedule(watchdog: Synthesized) -> None:
    assert watchdog.has_resource(
        "aws_cloudwatch_event_rule", {"name": NAME, "schedule_expression": "rate(1 minute)"}
    )
    (rule,) = watchdog.resources("aws_cloudwatch_event_rule").values()
    assert "event_pattern" not in rule  # a schedule, not an event match


def test_target_is_the_function_with_eventbridges_own_event(watchdog: Synthesized) -> None:
    built = watchdog.built
    (target,) = watchdog.resources("aws_cloudwatch_event_target").values()
    assert target["rule"] == ref(built.watchdog.rule, "name")
    assert target["arn"] == ref(built.function, "arn")
    # No custom input: the function recognises the "Scheduled Event" it receives.
    assert not {"input", "input_path", "input_transformer"} & set(target)


def test_only_this_rule_may_invoke_the_function(watchdog: Synthesized) -> None:
    built = watchdog.built
    assert watchdog.has_resource(
        "aws_lambda_permission",
        {
            "action": "lambda:InvokeFunction",
            "principal": "events.amazonaws.com",
            "function_name": ref(built.function, "function_name"),
            "source_arn": ref(built.watchdog.rule, "arn"),
        },
    )
    assert len(watchdog.resources("aws_lambda_permission")) == 1
