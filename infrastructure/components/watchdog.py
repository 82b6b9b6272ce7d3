"""An EventBridge schedule that starts a function: the trigger of a watchdog.

EventBridge schedules run at most once a minute, so a sub-minute cadence
lives inside the function (a probe loop per invocation); the schedule only
keeps one such loop running at all times.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from constructs import Construct


class ScheduledWatchdog(Construct):
    """A schedule rule, its Lambda target and the permission EventBridge needs to invoke it.

    The target passes no custom input: the function receives EventBridge's own
    "Scheduled Event", which is how it tells a schedule from an SNS alarm.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        function: LambdaFunction,
        schedule_expression: str,
    ) -> None:
        super().__init__(scope, id_)
        self.rule = CloudwatchEventRule(
            self,
            "schedule",
            name=name,
            description=f"Starts {name}: one probe loop per period",
            schedule_expression=schedule_expression,
        )
        self.target = CloudwatchEventTarget(
            self, "target", rule=self.rule.name, arn=function.arn, target_id=name
        )
        self.permission = LambdaPermission(
            self,
            "invoke",
            function_name=function.function_name,
            action="lambda:InvokeFunction",
            principal="events.amazonaws.com",
            source_arn=self.rule.arn,
        )
