"""The Parley construct in a host app's own stack (examples/host_app): two instances, dev and prod, side by
side, each prop rendered as the template shows it. The repository's own stack is tested in the other files."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns

from infra import CustomDomain, Parley
from infra.constructs.functions import deployed_functions
from infra.constructs.monitoring import ERROR_FRAMES_QUERY
from tests.infra.policies import listed
from tests.infra.synthesis import Synth, render

pytestmark = pytest.mark.infra

DEV, PROD = "ChatDev", "ChatProd"
# The property that would give a resource a fixed physical name, colliding between instances of one account.
PHYSICAL_NAMES = {"AWS::DynamoDB::Table": "TableName", "AWS::S3::Bucket": "BucketName",
                  "AWS::Lambda::Function": "FunctionName", "AWS::SNS::Topic": "TopicName",
                  "AWS::SQS::Queue": "QueueName",
                  "AWS::Logs::LogGroup": "LogGroupName", "AWS::CloudWatch::Alarm": "AlarmName",
                  "AWS::IAM::Role": "RoleName", "AWS::Lambda::LayerVersion": "LayerName",
                  "AWS::SecretsManager::Secret": "Name", "AWS::KMS::Alias": "AliasName"}


def of(synth: Synth, instance: str, resource_type: str) -> dict[str, dict[str, Any]]:
    """The resources of one type that belong to one Parley instance (their logical ids start with its id)."""
    return {k: v for k, v in synth.of_type(resource_type).items() if k.startswith(instance)}


def env(function: dict[str, Any]) -> dict[str, str]:
    return function["Properties"]["Environment"]["Variables"]


def functions(synth: Synth, instance: str) -> dict[str, dict[str, Any]]:
    return of(synth, instance, "AWS::Lambda::Function")


def test_two_instances_share_one_stack_without_a_fixed_physical_name(host_app: Synth) -> None:
    for instance in (DEV, PROD):
        for logical_id, resource in host_app.resources.items():
            if logical_id.startswith(instance) and resource["Type"] in PHYSICAL_NAMES:
                assert PHYSICAL_NAMES[resource["Type"]] not in resource["Properties"], logical_id
    # the names they do have (API, dashboard) differ
    apis = [a["Properties"]["Name"] for a in host_app.of_type("AWS::ApiGatewayV2::Api").values()]
    dashboards = [d["Properties"]["DashboardName"] for d in host_app.of_type("AWS::CloudWatch::Dashboard").values()]
    assert sorted(apis) == ["parley-ChatHost-dev", "parley-ChatHost-dev-server", "parley-ChatHost-prod",
                            "parley-ChatHost-prod-server"]
    assert sorted(dashboards) == ["ChatHost-dev", "ChatHost-prod"]


def test_the_stage_prop_names_the_api_stage_and_the_metrics_deployment(host_app: Synth) -> None:
    for instance, stage in ((DEV, "dev"), (PROD, "prod")):
        (api_stage,) = [s for k, s in of(host_app, instance, "AWS::ApiGatewayV2::Stage").items()
                        if "ServerApi" not in k]
        assert api_stage["Properties"]["StageName"] == stage
        assert {env(f)["PARLEY_DEPLOYMENT"] for f in functions(host_app, instance).values()
                if "PARLEY_DEPLOYMENT" in env(f)} == {f"ChatHost-{stage}"}
    assert render(host_app.template_json["Outputs"]["DevChatUrl"]["Value"]).endswith("/dev")


def test_a_dev_stage_is_destroyed_with_the_stack_and_prod_keeps_its_data(host_app: Synth) -> None:
    # given removal_policy=DESTROY on dev / then its table, buckets and log groups go with the stack
    (dev_table,) = of(host_app, DEV, "AWS::DynamoDB::Table").values()
    assert dev_table["DeletionPolicy"] == "Delete"
    assert dev_table["Properties"].get("DeletionProtectionEnabled", False) is False
    dev_buckets = of(host_app, DEV, "AWS::S3::Bucket")
    assert {b["DeletionPolicy"] for b in dev_buckets.values()} == {"Delete"}
    emptied = {render(r["Properties"]["BucketName"]) for r in of(host_app, DEV, "Custom::S3AutoDeleteObjects").values()}
    assert emptied == {f"${{{b}}}" for b in dev_buckets}  # emptied first, or CloudFormation could not delete them
    assert {g["DeletionPolicy"] for g in of(host_app, DEV, "AWS::Logs::LogGroup").values()} == {"Delete"}
    # and prod (the default) keeps them, the table protected from deletion too
    (prod_table,) = of(host_app, PROD, "AWS::DynamoDB::Table").values()
    assert (prod_table["DeletionPolicy"], prod_table["Properties"]["DeletionProtectionEnabled"]) == ("Retain", True)
    assert {b["DeletionPolicy"] for b in of(host_app, PROD, "AWS::S3::Bucket").values()} == {"Retain"}
    assert not of(host_app, PROD, "Custom::S3AutoDeleteObjects")


def test_log_retention_is_a_prop(host_app: Synth) -> None:
    for instance, days in ((DEV, 7), (PROD, 90)):
        groups = of(host_app, instance, "AWS::Logs::LogGroup")
        assert len(groups) >= 19  # every function's, and the API's access logs
        assert {g["Properties"]["RetentionInDays"] for g in groups.values()} == {days}


def test_tracing_can_be_switched_off(host_app: Synth) -> None:
    # given tracing=False on dev / then no function is traced, Powertools' tracer is off, no role may write X-Ray
    for function in functions(host_app, DEV).values():
        assert function["Properties"].get("TracingConfig", {}).get("Mode", "PassThrough") == "PassThrough"
        assert env(function)["POWERTOOLS_TRACE_DISABLED"] == "true"
    dev_policies = json.dumps(of(host_app, DEV, "AWS::IAM::Policy"))
    assert "xray:" not in dev_policies
    # and prod (the default) traces every function actively
    assert {f["Properties"]["TracingConfig"]["Mode"] for f in functions(host_app, PROD).values()} == {"Active"}
    assert "xray:PutTraceSegments" in json.dumps(of(host_app, PROD, "AWS::IAM::Policy"))


def _tags(resource: dict[str, Any]) -> dict[str, str]:
    tags = resource.get("Properties", {}).get("Tags", {})
    return {t["Key"]: t["Value"] for t in tags} if isinstance(tags, list) else dict(tags)


def test_cost_allocation_tags_reach_every_taggable_resource(host_app: Synth) -> None:
    for instance, expected in ((DEV, {"cost-center": "chat-dev", "environment": "dev", "parley:stage": "dev"}),
                               (PROD, {"cost-center": "chat", "environment": "prod", "parley:stage": "prod"})):
        tagged = [r for k, r in host_app.resources.items() if k.startswith(instance) and "Tags" in r["Properties"]]
        assert len(tagged) > 40
        for resource in tagged:
            assert {**expected, "service": "parley"}.items() <= _tags(resource).items(), resource["Type"]


def test_alarms_notify_the_email_address_or_the_host_apps_topic(host_app: Synth) -> None:
    # given alarm_email on dev / then a topic of its own, encrypted with a key CloudWatch may use, mails it
    dev_topics = [k for k in of(host_app, DEV, "AWS::SNS::Topic") if "AlarmsTopic" in k]
    assert len(dev_topics) == 1
    (subscription,) = [s["Properties"] for s in of(host_app, DEV, "AWS::SNS::Subscription").values()
                       if s["Properties"]["Protocol"] == "email"]
    assert subscription["Endpoint"] == "chat-dev@example.com"
    (key,) = of(host_app, DEV, "AWS::KMS::Key").values()
    assert key["Properties"]["EnableKeyRotation"] is True
    assert any(s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
               for s in key["Properties"]["KeyPolicy"]["Statement"])
    # and every alarm of each instance sends its alarm and its return to OK to its topic
    on_call = next(k for k in host_app.of_type("AWS::SNS::Topic") if k.startswith("OnCall"))
    for instance, topic in ((DEV, dev_topics[0]), (PROD, on_call)):
        alarms = of(host_app, instance, "AWS::CloudWatch::Alarm")
        # one per function, the API's integration errors, 3 dead-letter queues
        assert len(alarms) == len(deployed_functions()) + 4
        for alarm in alarms.values():
            # (the host's topic reaches prod's nested stack as a parameter)
            for actions in (alarm["Properties"]["AlarmActions"], alarm["Properties"]["OKActions"]):
                assert [host_app.passed_in(a) for a in actions] == [{"Ref": topic}]


def _dashboard(synth: Synth, instance: str) -> str:
    (dashboard,) = of(synth, instance, "AWS::CloudWatch::Dashboard").values()
    return render(dashboard["Properties"]["DashboardBody"])


def test_each_instance_has_a_dashboard_of_its_own_figures(host_app: Synth) -> None:
    body = _dashboard(host_app, PROD)
    widgets = json.loads(body.replace("${AWS::Region}", "eu-west-1"))["widgets"]
    titles = [w["properties"]["title"] for w in widgets]
    assert titles == ["Messages and deliveries", "Stale connections pruned", "Error frames by code",
                      "send: duration p50 and p99", "Connections and pushes", "Throttles and dead letters"]
    metrics = json.dumps([w["properties"].get("metrics") for w in widgets])
    # Parley's own metrics of this deployment only
    for name in ("MessagesSent", "Deliveries", "StaleConnections", "PushPushed"):
        assert f'["Parley", "{name}", "deployment", "ChatHost-prod"' in metrics
    # send's percentiles, connections, throttles of every function and the dead letters
    send = next(k for k in functions(host_app, PROD) if k.startswith(f"{PROD}Functionssend"))
    assert f'"Duration", "FunctionName", "${{{send}}}"' in metrics and '"stat": "p99"' in metrics
    assert '"p50"' in metrics
    assert '"ConnectCount"' in metrics and '"Throttles"' in metrics
    assert metrics.count('"ApproximateNumberOfMessagesVisible"') == 3
    # error frames by code, from the refusals the handlers log with their code
    (query,) = [w["properties"]["query"] for w in widgets if w["type"] == "log"]
    assert query.endswith(ERROR_FRAMES_QUERY)
    assert query.count("SOURCE") == len(deployed_functions())
    assert "ChatHost-dev" not in body


def test_a_custom_domain_serves_the_api_with_an_acm_certificate(host_app: Synth) -> None:
    # given domain=CustomDomain("chat.example.com", hosted_zone=...) on prod
    (certificate,) = of(host_app, PROD, "AWS::CertificateManager::Certificate").values()
    assert certificate["Properties"]["DomainName"] == "chat.example.com"
    assert certificate["Properties"]["DomainValidationOptions"][0]["HostedZoneId"] == "Z0123456789ABCDEFGHIJ"
    (domain_id, domain), = of(host_app, PROD, "AWS::ApiGatewayV2::DomainName").items()
    assert domain["Properties"]["DomainName"] == "chat.example.com"
    (mapping,) = of(host_app, PROD, "AWS::ApiGatewayV2::ApiMapping").values()
    assert mapping["Properties"]["DomainName"] == {"Ref": domain_id}
    assert mapping["Properties"]["Stage"] == "prod"
    (record,) = of(host_app, PROD, "AWS::Route53::RecordSet").values()
    assert record["Properties"]["AliasTarget"]["DNSName"] == {"Fn::GetAtt": [domain_id, "RegionalDomainName"]}
    # then clients connect to the domain; dev, without one, keeps the execute-api URL
    assert host_app.template_json["Outputs"]["ProdChatUrl"]["Value"] == "wss://chat.example.com"
    assert not of(host_app, DEV, "AWS::ApiGatewayV2::DomainName")


def test_auth_settings_and_concurrency_props_reach_the_functions(host_app: Synth) -> None:
    (authorizer,) = [f for k, f in functions(host_app, PROD).items() if k.startswith(f"{PROD}Functionsauthorizer")]
    assert {k: v for k, v in env(authorizer).items() if k.startswith("PARLEY_AUTH_")} == {
        "PARLEY_AUTH_MODE": "jwks", "PARLEY_AUTH_ALGORITHMS": "RS256",
        "PARLEY_AUTH_JWKS_URL": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123/.well-known/jwks.json",
        "PARLEY_AUTH_ISSUER": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123",
        "PARLEY_AUTH_AUDIENCE": "3n4b5urk1ft4fl3mg5e62d9ado", "PARLEY_AUTH_AUDIENCE_CLAIM": "client_id"}
    assert not of(host_app, PROD, "AWS::SecretsManager::Secret")  # jwks mode: no signing secret
    assert len(of(host_app, DEV, "AWS::SecretsManager::Secret")) == 1
    assert {env(f).get("PARLEY_MAX_GROUP_MEMBERS") for f in functions(host_app, DEV).values()
            if "PARLEY_DEPLOYMENT" in env(f)} == {"20"}
    assert not [f for f in functions(host_app, DEV).values() if "ReservedConcurrentExecutions" in f["Properties"]]
    assert [f for f in functions(host_app, PROD).values() if "ReservedConcurrentExecutions" in f["Properties"]]


def test_both_uploads_buckets_get_their_notifications_set(host_app: Synth) -> None:
    # CDK deploys one bucket-notifications function per stack, so one in each instance's nested stack: its one
    # role may configure that instance's uploads bucket only
    for nested in host_app.nested_templates.values():
        resources = nested["Resources"]
        (role,) = [r for k, r in resources.items() if k.startswith("ParleyBucketNotifications")
                   and r["Type"] == "AWS::IAM::Role"]
        (statement,) = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        (uploads,) = [k for k, r in resources.items() if "AttachmentsUploads" in k and r["Type"] == "AWS::S3::Bucket"]
        assert [r["Fn::GetAtt"][0] for r in listed(statement["Resource"])] == [uploads]


def test_both_authorizers_leave_the_identity_source_out(host_app: Synth) -> None:
    # the WebSocket APIs' authorizers (the admin consoles' JWT authorizers read the Authorization header)
    authorizers = [a for a in host_app.of_type("AWS::ApiGatewayV2::Authorizer").values()
                   if a["Properties"]["AuthorizerType"] != "JWT"]
    assert [a["Properties"]["AuthorizerType"] for a in authorizers] == ["REQUEST", "REQUEST"]
    assert not [a for a in authorizers if "IdentitySource" in a["Properties"]]


@pytest.mark.parametrize(("props", "message"), [
    ({"stage": "dev stage"}, "stage"),
    ({"alarm_email": "a@example.com", "alarm_topic": "topic"}, "alarm_topic and alarm_email"),
    ({"tags": {"aws:owner": "me"}}, "tag"),
    ({"tracing": False, "settings": {"PARLEY_XRAY_SUBSEGMENTS": True}}, "tracing"),
    ({"settings": {"PARLEY_TABLE_NAME": "mine"}}, "set by the stack"),
])
def test_a_host_apps_mistake_fails_before_anything_is_built(props: dict, message: str) -> None:
    stack = cdk.Stack(cdk.App(), "Host")
    if props.get("alarm_topic") == "topic":
        props = {**props, "alarm_topic": sns.Topic(stack, "Topic")}
    with pytest.raises(ValueError, match=message):
        Parley(stack, "Chat", **props)


def test_a_custom_domain_needs_a_certificate_or_a_zone_to_validate_one_in() -> None:
    with pytest.raises(ValueError, match="certificate, or a hosted zone"):
        CustomDomain("chat.example.com")


def test_two_instances_in_one_stack_need_their_own_stages() -> None:
    # given one instance with the default stage
    stack = cdk.Stack(cdk.App(), "Host")
    Parley(stack, "Chat", outputs=False)
    # when a second one is added with the same stage / then its metrics would mix with the first's: refused
    with pytest.raises(ValueError, match="give each its own stage"):
        Parley(stack, "Chat2")


# CloudFormation's limit of resources per stack, and what one Parley instance may take of it: the example puts each
# instance in a nested stack of its own, which must keep room to grow (docs/deploying.md).
INSTANCE_RESOURCES_MAX = 400


def test_each_instance_fits_in_its_nested_stack_with_room_to_grow(host_app: Synth) -> None:
    assert sorted(host_app.nested_templates) == ["Dev", "Prod"]
    for name, nested in host_app.nested_templates.items():
        assert len(nested["Resources"]) <= INSTANCE_RESOURCES_MAX, f"{name}: {len(nested['Resources'])} resources"
    # the host's own stack holds its resources and one per instance
    assert len(host_app.template_json["Resources"]) <= 10
    # one invoke permission per function, not one per route
    for instance in (DEV, PROD):
        permissions = [p for p in of(host_app, instance, "AWS::Lambda::Permission").values()
                       if p["Properties"].get("Principal") == "apigateway.amazonaws.com"]
        targets = [json.dumps(p["Properties"]["FunctionName"]) for p in permissions]
        assert len(targets) == len(set(targets))


def test_the_server_api_roles_are_made_for_the_callers_given(host_app: Synth) -> None:
    # given server_api_callers=[the account] on prod / then a read-only and a full-access role, each with its
    # policy, that the account's principals may assume
    roles = {k: r["Properties"] for k, r in of(host_app, PROD, "AWS::IAM::Role").items() if "ServerApi" in k}
    policies = {k for k in of(host_app, PROD, "AWS::IAM::ManagedPolicy") if "ServerApi" in k}
    assert len(roles) == 2
    for logical_id, role in roles.items():
        kind = "ReadOnly" if "ReadOnly" in logical_id else "FullAccess"
        (policy,) = [p for p in policies if kind in p]
        assert role["ManagedPolicyArns"] == [{"Ref": policy}]
        (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Action"] == "sts:AssumeRole"
        assert render(trust["Principal"]["AWS"]).endswith(":root")
    # and without callers (dev), the policies only
    assert not [k for k in of(host_app, DEV, "AWS::IAM::Role") if "ServerApi" in k]
    assert len([k for k in of(host_app, DEV, "AWS::IAM::ManagedPolicy") if "ServerApi" in k]) == 2
