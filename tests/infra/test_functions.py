"""Every handler runs the same way: arm64, python3.13, the parley and Powertools layers, JSON logs kept
for a while, X-Ray, and only the settings the core actually reads."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match

from infra import constants
from infra.constructs.functions import NEEDS, TableAccess, deployed_functions
from parley import routes
from parley.config import Settings
from tests.infra.synthesis import NOTIFICATIONS_HANDLER, STACK, Synth, render

pytestmark = pytest.mark.infra

HANDLERS = deployed_functions()
TABLE_USERS = sorted(name for name, needs in NEEDS.items() if needs.table is not TableAccess.NONE)
DELIVERING = sorted(name for name, needs in NEEDS.items() if needs.delivers)
ROUTED = set(routes.ROUTES.values()) | {routes.AUTHORIZER}
POWERTOOLS_LAYER = ("arn:aws:lambda:${AWS::Region}:017000801446:layer:"
                    "AWSLambdaPowertoolsPythonV3-python313-arm64:27")


def function(synth: Synth, handler: str) -> dict[str, Any]:
    return synth.resource(f"Functions/{handler}")["Properties"]


def environment(synth: Synth, handler: str) -> dict[str, Any]:
    return function(synth, handler).get("Environment", {}).get("Variables", {})


def test_one_function_per_handler_folder(synth: Synth) -> None:
    # and CDK's handlers that run at deploy time: the bucket's event notifications, the console's pages
    deployed = set(synth.of_type("AWS::Lambda::Function")) - {synth.logical_id(NOTIFICATIONS_HANDLER)} - {
        k for k in synth.of_type("AWS::Lambda::Function") if k.startswith("CustomCDKBucketDeployment")}
    assert deployed == {synth.logical_id(f"Functions/{handler}") for handler in HANDLERS}
    for handler in HANDLERS:
        assert function(synth, handler)["Handler"] == "handler.lambda_handler"


@pytest.mark.parametrize("handler", HANDLERS)
def test_function_runs_python313_on_arm64_with_both_layers(synth: Synth, handler: str) -> None:
    # given a handler / when it is deployed
    props = function(synth, handler)
    # then it runs where its layers were built for
    assert props["Runtime"] == "python3.13"
    assert props["Architectures"] == ["arm64"]
    # and it can import parley (/opt/python/parley) and Powertools (with pydantic)
    layers = [render(layer) for layer in props["Layers"]]
    assert f"${{{synth.logical_id('Functions/ParleyLayer')}}}" in layers
    assert POWERTOOLS_LAYER in layers


def test_parley_layer_is_built_for_the_functions_platform(synth: Synth) -> None:
    synth.template.has_resource_properties("AWS::Lambda::LayerVersion", {
        "CompatibleRuntimes": ["python3.13"],
        "CompatibleArchitectures": ["arm64"],
        "Description": Match.string_like_regexp("core"),
    })


@pytest.mark.parametrize("handler", HANDLERS)
def test_function_logs_json_to_its_own_group_with_retention(synth: Synth, handler: str) -> None:
    logging = function(synth, handler)["LoggingConfig"]
    assert logging["LogFormat"] == "JSON"
    log_group = synth.resources[logging["LogGroup"]["Ref"]]
    assert log_group["Properties"]["RetentionInDays"] > 0


@pytest.mark.parametrize("handler", HANDLERS)
def test_function_is_traced_and_modestly_sized(synth: Synth, handler: str) -> None:
    props = function(synth, handler)
    assert props["TracingConfig"] == {"Mode": "Active"}
    # only the thumbnail maker (it decodes photos) and the fan-out of send, changes and deliver get more than the
    # default
    assert props["MemorySize"] == constants.FUNCTION_MEMORY_MB.get(handler, constants.MEMORY_MB)
    assert set(constants.FUNCTION_MEMORY_MB) == {routes.THUMBNAILS, "send", "changes", routes.DELIVER}
    # API Gateway gives up on an integration after 29 s; functions SNS invokes get at most a minute
    assert props["Timeout"] <= (29 if handler in ROUTED else 60)


@pytest.mark.parametrize("handler", HANDLERS)
def test_function_identifies_itself_to_powertools(synth: Synth, handler: str) -> None:
    env = environment(synth, handler)
    assert env["POWERTOOLS_SERVICE_NAME"] == "parley"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Parley"


@pytest.mark.parametrize("handler", HANDLERS)
def test_function_never_records_responses_or_errors_in_traces(synth: Synth, handler: str) -> None:
    # given a deployed function / then Powertools' Tracer records neither its response nor its exception in
    # X-Ray, whatever the code asks: either may carry message text (docs/security.md)
    env = environment(synth, handler)
    assert (env["POWERTOOLS_TRACER_CAPTURE_RESPONSE"], env["POWERTOOLS_TRACER_CAPTURE_ERROR"]) == ("false", "false")


@pytest.mark.parametrize("handler", HANDLERS)
def test_every_parley_variable_is_one_the_settings_model_reads(synth: Synth, handler: str) -> None:
    # a misspelt variable would be silently ignored and the default used instead
    known = {f.alias for f in Settings.model_fields.values()}
    assert {name for name in environment(synth, handler) if name.startswith("PARLEY_")} <= known


@pytest.mark.parametrize("handler", TABLE_USERS)
def test_table_users_are_told_the_table_name(synth: Synth, handler: str) -> None:
    assert environment(synth, handler)["PARLEY_TABLE_NAME"] == {"Ref": synth.logical_id("Storage/Table")}


def test_send_delivers_through_the_stage_callback_url(synth: Synth) -> None:
    # given the send function / then it posts to https://{api}.execute-api.{region}.{suffix}/prod
    api = synth.logical_id("WebSocket/Api")
    assert render(environment(synth, "send")["PARLEY_CALLBACK_URL"]) == (
        f"https://${{{api}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{constants.STAGE_NAME}")


@pytest.mark.parametrize("handler", HANDLERS)
def test_only_delivering_functions_know_the_callback_url(synth: Synth, handler: str) -> None:
    # without the URL the core builds no fanout: a delivering handler would silently deliver nothing
    assert ("PARLEY_CALLBACK_URL" in environment(synth, handler)) == (handler in DELIVERING)


def test_default_route_needs_no_settings_of_the_core(synth: Synth) -> None:
    # but the deployment's name, which every function's metrics carry as a dimension
    assert [name for name in environment(synth, "default") if name.startswith("PARLEY_")] == ["PARLEY_DEPLOYMENT"]


@pytest.mark.parametrize("handler", sorted(deployed_functions()))
def test_every_function_tags_its_metrics_with_the_deployment(synth: Synth, handler: str) -> None:
    # the repository's own stack is Parley's prod stage: dev and prod in one account keep their figures apart
    assert environment(synth, handler)["PARLEY_DEPLOYMENT"] == f"{STACK}-{constants.STAGE_NAME}"


def test_authorizer_verifies_hs256_tokens_with_the_generated_secret_by_default(synth: Synth) -> None:
    env = environment(synth, "authorizer")
    assert env["PARLEY_AUTH_MODE"] == "hs256"
    assert env["PARLEY_AUTH_ALGORITHMS"] == "HS256"
    assert env["PARLEY_AUTH_SECRET_ID"] == {"Ref": synth.logical_id("Auth/TokenSigningSecret")}
    assert env["PARLEY_AUTH_ISSUER"] == constants.DEFAULT_AUTH_ISSUER
    assert env["PARLEY_AUTH_AUDIENCE"] == constants.DEFAULT_AUTH_AUDIENCE


def test_secret_is_generated_not_written_into_the_template(synth: Synth) -> None:
    secret = synth.resource("Auth/TokenSigningSecret")["Properties"]
    assert "SecretString" not in secret
    assert secret["GenerateSecretString"]["PasswordLength"] >= 32


def test_authorizer_alone_carries_pyjwt(synth: Synth) -> None:
    dependencies = f"${{{synth.logical_id('Functions/AuthorizerDependencies')}}}"
    for handler in HANDLERS:
        layers = [render(layer) for layer in function(synth, handler)["Layers"]]
        assert (dependencies in layers) == (handler == "authorizer")


def test_thumbnail_maker_alone_carries_pillow(synth: Synth) -> None:
    imaging = f"${{{synth.logical_id('Functions/ImagingDependencies')}}}"
    for handler in HANDLERS:
        layers = [render(layer) for layer in function(synth, handler)["Layers"]]
        assert (imaging in layers) == (handler == routes.THUMBNAILS)


def test_thumbnail_maker_has_memory_and_time_for_photos(synth: Synth) -> None:
    # given a 12-megapixel HEIC photo / then it is decoded and re-encoded within a minute, in 1 GB
    props = function(synth, routes.THUMBNAILS)
    assert (props["MemorySize"], props["Timeout"]) == (1024, 60)


def test_every_function_has_the_memory_size_the_cost_benchmark_bills(synth: Synth) -> None:
    # given the memory sizes the cost model reads from infra/constants.py (without the CDK)
    from benchmarks.cost import function_memory_mb

    # then each deployed function has its own: send and deliver more CPU for their fan-out, the others 256 MB
    deployed = {handler: function(synth, handler)["MemorySize"] for handler in HANDLERS}
    assert deployed == {handler: function_memory_mb(handler) for handler in HANDLERS}
    assert (deployed["send"], deployed[routes.DELIVER]) == (1024, 1024)


def _asset_dir(synth: Synth, construct_path: str) -> Any:
    return synth.outdir / synth.resource(construct_path)["Metadata"]["aws:asset:path"]


def _machine(shared_object: Any) -> int:
    """The ELF machine of a compiled extension (183: aarch64)."""
    header = shared_object.read_bytes()[:20]
    assert header[:4] == b"\x7fELF"
    return int.from_bytes(header[18:20], "little")


def test_authorizer_dependencies_are_linux_arm64_wheels(synth: Synth) -> None:
    # given the staged layer asset
    python = _asset_dir(synth, "Functions/AuthorizerDependencies") / "python"
    # then PyJWT is there, with cryptography's compiled core built for aarch64 (ELF machine 183);
    # a wheel for this machine's platform would make every $connect fail at import
    assert (python / "jwt" / "__init__.py").is_file()
    (rust_core,) = (python / "cryptography" / "hazmat" / "bindings").glob("_rust*.so")
    assert _machine(rust_core) == 183


def test_imaging_dependencies_are_linux_arm64_wheels(synth: Synth) -> None:
    # given the staged layer asset / then Pillow and pillow-heif (HEIC photos) are there, built for aarch64:
    # a wheel for this machine's platform would leave every photo without a served copy or thumbnail
    python = _asset_dir(synth, "Functions/ImagingDependencies") / "python"
    (imaging,) = (python / "PIL").glob("_imaging.cpython-313-aarch64-linux-gnu.so")
    (heif,) = python.glob("_pillow_heif.cpython-313-aarch64-linux-gnu.so")
    assert (python / "pillow_heif" / "__init__.py").is_file()
    assert (_machine(imaging), _machine(heif)) == (183, 183)


def test_assets_ship_no_bytecode(synth: Synth) -> None:
    # __pycache__ from local test runs must not reach Lambda (and must not change the asset hash)
    assets = [_asset_dir(synth, "Functions/ParleyLayer"),
              _asset_dir(synth, "Functions/AuthorizerDependencies"),
              _asset_dir(synth, "Functions/ImagingDependencies")]
    assets += [_asset_dir(synth, f"Functions/{handler}") for handler in HANDLERS]
    for asset in assets:
        assert not [p for p in asset.rglob("*") if p.name == "__pycache__" or p.suffix == ".pyc"], asset
    assert (_asset_dir(synth, "Functions/ParleyLayer") / "python" / "parley" / "table.py").is_file()
