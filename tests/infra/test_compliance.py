"""The template passes cdk-nag's AWS Solutions checks (every exception explained) and cfn-lint, and
tells the operator where to connect."""

from __future__ import annotations

import pytest
from cfnlint.api import lint_file

from infra import constants
from tests.infra.synthesis import NOTIFICATIONS_HANDLER, Synth, render

pytestmark = pytest.mark.infra

# The default deployment, the ones configured through context, and the example host app with two instances
# (tests/infra/conftest.py).
SYNTHS = ["synth", "configured", "example_hook", "new_account", "host_app"]

# A new kind of exception is a decision for review: it has to be added here.
ACKNOWLEDGED_RULES = {
    "AwsSolutions-APIG4",  # WebSocket routes after $connect cannot have an authorizer
    "AwsSolutions-IAM5[Resource::*]",  # X-Ray has no resource-level permissions
    "AwsSolutions-L1",  # python3.13 matches the pinned Powertools layer (and the example hook follows)
    "AwsSolutions-SMG4",  # the HS256 key is rotated together with the host app's backend
    # attachments are named <prefix>/<conversation>/<uploader>/<random id>: uploads, served copies, thumbnails
    "AwsSolutions-IAM5[Resource::<UploadsBucket.Arn>/u/*]",
    "AwsSolutions-IAM5[Resource::<UploadsBucket.Arn>/p/*]",
    "AwsSolutions-IAM5[Resource::<UploadsBucket.Arn>/t/*]",
    # users' data exports are named exports/<user key>/<job id>/... by the server API's export job
    "AwsSolutions-IAM5[Resource::<UploadsBucket.Arn>/exports/*]",
    # @connections/<connection id>: known at runtime
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<WebSocketApi>/"
    f"{constants.STAGE_NAME}/*/@connections/*]",
    # the server API's read-only and full policies: every path (ids are in paths), GET only or every method
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<ServerApi>/"
    "$default/GET/*]",
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<ServerApi>/"
    "$default/*/*]",
    # the admin console (docs/admin.md): the operators' pool without the paid Plus plan, CloudFront without a
    # country list, a WAF, standard logs or a certificate of its own; CDK's BucketDeployment function, which copies
    # the pages into the console's bucket at deploy time
    "AwsSolutions-COG8", "AwsSolutions-CFR1", "AwsSolutions-CFR2", "AwsSolutions-CFR3", "AwsSolutions-CFR4",
    *(f"AwsSolutions-IAM5[Action::s3:{action}]" for action in ("Abort*", "DeleteObject*", "GetBucket*",
                                                                "GetObject*", "List*")),
    "AwsSolutions-IAM5[Resource::<ConsoleSite.Arn>/*]",
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]",
}
# With push: SNS names device endpoints endpoint/<PLATFORM>/<APP>/<uuid>, one wildcard per application.
PUSH_ENDPOINT_RULES = {
    "AwsSolutions-IAM5[Resource::arn:aws:sns:us-east-1:123456789012:endpoint/APNS/parley-ios/*]",
    "AwsSolutions-IAM5[Resource::arn:aws:sns:us-east-1:123456789012:endpoint/GCM/parley-android/*]",
}


@pytest.fixture(params=SYNTHS)
def any_synth(request: pytest.FixtureRequest) -> Synth:
    return request.getfixturevalue(request.param)


def acknowledged_rules(synth: Synth) -> set[str]:
    """Every acknowledged rule, with the uploads bucket's logical id as ``UploadsBucket``, and the APIs' (the
    @connections wildcard's, the server API policies') as ``WebSocketApi`` and ``ServerApi``."""
    bucket = synth.logical_id("Attachments/Uploads")
    websocket, server = synth.logical_id("WebSocket/Api"), synth.logical_id("ServerApi/Api")
    site = synth.logical_id("AdminConsole/Site")
    return {finding["ruleName"].replace(f"<{bucket}.", "<UploadsBucket.").replace(f"<{websocket}>", "<WebSocketApi>")
            .replace(f"<{server}>", "<ServerApi>").replace(f"<{site}.", "<ConsoleSite.")
            for finding in synth.nag_report["suppressedViolations"]}


def test_cdk_nag_reports_no_unacknowledged_finding(any_synth: Synth) -> None:
    # given a synth that succeeded (the plugin fails it on any unacknowledged finding)
    report = any_synth.nag_report
    # then the AWS Solutions pack ran and every finding it made was acknowledged
    assert report["pluginName"] == "AwsSolutions"
    assert report["conclusion"] == "success"
    assert report["violations"] == []


def test_every_acknowledged_finding_says_why(any_synth: Synth) -> None:
    for finding in any_synth.nag_report["suppressedViolations"]:
        assert len(finding["reason"]) >= 60, finding["ruleName"]


def test_the_default_deployment_acknowledges_only_the_known_exceptions(synth: Synth) -> None:
    assert acknowledged_rules(synth) == ACKNOWLEDGED_RULES


def test_push_adds_only_the_endpoint_wildcards_of_its_applications(configured: Synth) -> None:
    assert acknowledged_rules(configured) == ACKNOWLEDGED_RULES | PUSH_ENDPOINT_RULES


def test_the_example_hook_adds_no_kind_of_exception(example_hook: Synth) -> None:
    assert acknowledged_rules(example_hook) == ACKNOWLEDGED_RULES


def test_acknowledgements_travel_with_the_template(any_synth: Synth) -> None:
    # auditors reading only the template find each exception, with its reason, on the resource itself
    for finding in any_synth.nag_report["suppressedViolations"]:
        for construct in finding["violatingConstructs"]:
            resource = any_synth.resource(construct["constructPath"].removeprefix(f"{any_synth.stack}/"))
            written = resource["Metadata"]["cdk_nag"]["rules_to_suppress"]
            assert {"id": finding["acknowledgedId"], "reason": finding["reason"]} in written


def test_cfn_lint_finds_no_errors(any_synth: Synth) -> None:
    # errors include circular dependencies, e.g. the send function's callback URL and the API
    errors = [m for path in any_synth.template_paths for m in lint_file(path) if m.rule.id.startswith("E")]
    assert errors == [], "\n".join(str(m) for m in errors)


def test_outputs_tell_clients_where_to_connect(synth: Synth) -> None:
    api = synth.logical_id("WebSocket/Api")
    outputs = synth.template_json["Outputs"]
    host = f"${{{api}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{constants.STAGE_NAME}"
    assert render(outputs["WebSocketUrl"]["Value"]) == f"wss://{host}"
    assert render(outputs["CallbackUrl"]["Value"]) == f"https://{host}"


def test_outputs_name_the_uploads_bucket(synth: Synth) -> None:
    output = synth.template_json["Outputs"]["UploadsBucketName"]
    assert output["Value"] == {"Ref": synth.logical_id("Attachments/Uploads")}


def test_every_function_and_the_api_raise_an_alarm_on_errors(synth: Synth) -> None:
    alarms = [a["Properties"] for a in synth.of_type("AWS::CloudWatch::Alarm").values()]
    alarmed = {d["Value"]["Ref"] for a in alarms for d in a.get("Dimensions", []) if d["Name"] == "FunctionName"}
    # but CDK's bucket-notifications handler and the console's BucketDeployment function: they run at deploy time,
    # where a failure fails the deployment
    deploy_time = {synth.logical_id(NOTIFICATIONS_HANDLER)} | {
        k for k, f in synth.of_type("AWS::Lambda::Function").items() if k.startswith("CustomCDKBucketDeployment")}
    assert alarmed == set(synth.of_type("AWS::Lambda::Function")) - deploy_time
    assert any(a["MetricName"] == "IntegrationError" for a in alarms)
