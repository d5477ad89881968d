"""Every exception class: the tree, and each one raised for real against the emulator (faults
injected through its admin controls), in sync and async form."""

from __future__ import annotations

import builtins
import socket

import pytest
from conftest import Api, organizations, standard_instances

import cyrisma


def test_the_tree() -> None:
    api_errors = [
        cyrisma.BadRequestError,
        cyrisma.AuthenticationError,
        cyrisma.PermissionDeniedError,
        cyrisma.NotFoundError,
        cyrisma.ConflictError,
        cyrisma.RateLimitError,
        cyrisma.ServerError,
    ]
    for cls in api_errors:
        assert issubclass(cls, cyrisma.APIError)
    for cls in [
        cyrisma.APIError,
        cyrisma.TransportError,
        cyrisma.AmbiguousOutcomeError,
        cyrisma.DecodeError,
        cyrisma.SecretRotationError,
        cyrisma.WebhookVerificationError,
        cyrisma.ForkError,
        cyrisma.InvalidArgumentError,
    ]:
        assert issubclass(cls, cyrisma.CyrismaError)
    assert issubclass(cyrisma.CyrismaError, Exception)
    assert issubclass(cyrisma.TimeoutError, cyrisma.TransportError)
    assert issubclass(cyrisma.TimeoutError, builtins.TimeoutError)
    assert issubclass(cyrisma.ConnectionError, cyrisma.TransportError)
    assert issubclass(cyrisma.ConnectionError, builtins.ConnectionError)
    assert issubclass(cyrisma.InvalidArgumentError, ValueError)
    assert issubclass(cyrisma.ForkError, RuntimeError)
    error = cyrisma.RateLimitError("slow down", status=429, code="rate_limited", request_id="r1", retry_after=2.0)
    assert (error.status, error.code, error.request_id, error.retry_after) == (429, "rate_limited", "r1", 2.0)
    assert error.message == "slow down"


def test_api_error_attributes(api: Api, emulator: cyrisma.Emulator) -> None:
    client = api.client(emulator)
    error = api.raises(cyrisma.NotFoundError, lambda: client.instances.get("cc999999"))
    assert isinstance(error, cyrisma.NotFoundError)
    assert error.status == 404
    assert error.code == "not_found"
    assert error.request_id and error.request_id.startswith("emu-")
    assert error.endpoint == "instances.get_instance"
    assert error.request_id in str(error) and "404" in str(error)
    assert "cc999999" in error.message


def test_plain_api_error(api: Api, emulator: cyrisma.Emulator) -> None:
    emulator.fail(418, endpoint="users.list_users")
    error = api.raises(cyrisma.APIError, lambda: api.client(emulator).users.list())
    assert type(error) is cyrisma.APIError
    assert error.status == 418


def test_bad_request(api: Api, emulator: cyrisma.Emulator) -> None:
    client = api.client(emulator)
    standard = standard_instances(emulator)[0].instance_id
    error = api.raises(cyrisma.BadRequestError, lambda: client.instances.set_mfa(standard, 1))
    assert isinstance(error, cyrisma.BadRequestError)
    assert error.status == 400 and error.code == "invalid_request"


def test_authentication(api: Api, emulator: cyrisma.Emulator) -> None:
    client = api.client(emulator, api_secret="wrong-secret-value")
    error = api.raises(cyrisma.AuthenticationError, lambda: client.users.list())
    assert isinstance(error, cyrisma.AuthenticationError)
    assert error.status == 401
    assert "wrong-secret-value" not in str(error) + repr(error)


def test_permission_denied(api: Api, emulator: cyrisma.Emulator) -> None:
    client = api.client(emulator)
    victim = standard_instances(emulator)[0].instance_id
    api(client.instances.suspend(victim))
    error = api.raises(cyrisma.PermissionDeniedError, lambda: client.instance(victim).dashboard_overall())
    assert isinstance(error, cyrisma.APIError)
    assert error.status == 403 and error.code == "instance_suspended"


def test_conflict(api: Api, emulator: cyrisma.Emulator) -> None:
    client = api.client(emulator)
    org = organizations(emulator)[0].instance_id
    api(client.users.create(instance_id=org, username="twice@example.com", first_name="A", last_name="B"))
    error = api.raises(
        cyrisma.ConflictError,
        lambda: client.users.create(instance_id=org, username="twice@example.com", first_name="A", last_name="B"),
    )
    assert isinstance(error, cyrisma.APIError)
    assert error.status == 409


def test_rate_limit_beyond_the_wait_cap(api: Api, emulator: cyrisma.Emulator) -> None:
    emulator.fail(429, endpoint="users.list_users", retry_after="3600", times=1)
    error = api.raises(cyrisma.RateLimitError, lambda: api.client(emulator).users.list())
    assert isinstance(error, cyrisma.RateLimitError)
    assert error.status == 429
    assert error.retry_after == 3600.0
    assert error.request_id


def test_rate_limit_after_retries(api: Api, emulator: cyrisma.Emulator) -> None:
    emulator.fail(429, endpoint="users.list_users", retry_after="0")
    error = api.raises(cyrisma.RateLimitError, lambda: api.client(emulator, max_retries=1).users.list())
    assert isinstance(error, cyrisma.RateLimitError)
    assert error.retry_after == 0.0
    assert emulator.count("users.list_users") == 2


def test_retries_hide_a_passing_failure(api: Api, emulator: cyrisma.Emulator) -> None:
    emulator.fail(503, endpoint="users.list_users", retry_after="0", times=1)
    assert api(api.client(emulator).users.list())
    assert emulator.count("users.list_users") == 2


def test_server_error(api: Api, emulator: cyrisma.Emulator) -> None:
    emulator.fail(500, endpoint="users.list_users")
    error = api.raises(cyrisma.ServerError, lambda: api.client(emulator, max_retries=0).users.list())
    assert isinstance(error, cyrisma.ServerError)
    assert error.status == 500 and error.code == "internal_error"


def test_timeout(api: Api, plain_emulator: cyrisma.Emulator) -> None:
    plain_emulator.delay(5, endpoint="users.list_users")
    error = api.raises(cyrisma.TimeoutError, lambda: api.client(plain_emulator, timeout=0.3).users.list())
    assert isinstance(error, cyrisma.TransportError)
    assert isinstance(error, builtins.TimeoutError)


def test_wait_until_active_times_out(api: Api, emulator: cyrisma.Emulator) -> None:
    with cyrisma.Emulator(tls=False, provisioning_delay=30, organizations=1, instances=1) as slow:
        client = api.client(slow)
        org = organizations(slow)[0].instance_id
        created = api(
            client.instances.create(
                instance_type="standard", parent_instance_id=org, name="Slow", short_name="slow", country="US", email="a@example.com"
            )
        )
        api.raises(cyrisma.TimeoutError, lambda: client.instances.wait_until_active(created.instance_id, timeout=0.5))


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_connection_refused(api: Api) -> None:
    port = _closed_port()
    client_cls = cyrisma.AsyncClient if api.mode == "async" else cyrisma.Client
    client = client_cls(
        api_key="k", api_secret="s", base_url=f"http://api.cyrisma.test:{port}/app", resolve="*.cyrisma.test=127.0.0.1", max_retries=0
    )
    error = api.raises(cyrisma.ConnectionError, lambda: client.users.list())
    assert isinstance(error, builtins.ConnectionError)
    assert isinstance(error, cyrisma.ConnectionError) and not error.is_tls


def test_untrusted_certificate(api: Api, emulator: cyrisma.Emulator) -> None:
    options = emulator.client_options()
    del options["ca_cert"]
    client_cls = cyrisma.AsyncClient if api.mode == "async" else cyrisma.Client
    client = client_cls(**options, max_retries=0)
    error = api.raises(cyrisma.ConnectionError, lambda: client.users.list())
    assert isinstance(error, cyrisma.ConnectionError) and error.is_tls


def test_ambiguous_outcome(api: Api, emulator: cyrisma.Emulator) -> None:
    client = api.client(emulator)
    org = organizations(emulator)[0].instance_id
    emulator.drop_after_commit(endpoint="users.create_user", times=1)
    error = api.raises(
        cyrisma.AmbiguousOutcomeError,
        lambda: client.users.create(instance_id=org, username="maybe@example.com", first_name="M", last_name="B"),
    )
    assert isinstance(error, cyrisma.AmbiguousOutcomeError)
    assert error.endpoint == "users.create_user"
    assert emulator.count("users.create_user") == 1  # never sent twice
    assert "maybe@example.com" in [u.username for u in emulator.users()]


def test_decode_error(api: Api, emulator: cyrisma.Emulator) -> None:
    emulator.add_fault("truncated_body", endpoint="users.list_users", keep=5, complete=True)
    error = api.raises(cyrisma.DecodeError, lambda: api.client(emulator).users.list())
    assert isinstance(error, cyrisma.DecodeError)
    assert error.status == 200
    with pytest.raises(cyrisma.DecodeError):
        cyrisma.Instance.from_json(b'{"name": "no id"}')


def test_secret_rotation_error_keeps_the_secret(api: Api, emulator: cyrisma.Emulator) -> None:
    client = api.client(emulator)

    def store(secret: cyrisma.Secret) -> None:
        raise OSError("disk full")

    error = api.raises(cyrisma.SecretRotationError, lambda: client.rotate_secret(store))
    assert isinstance(error, cyrisma.SecretRotationError)
    assert error.saved is False
    assert error.secret is not None
    assert error.secret.get_secret_value() == emulator.api_secret
    assert emulator.api_secret not in str(error) + repr(error)
    assert isinstance(error.__cause__, OSError)


def test_webhook_verification_error() -> None:
    body = b'{"id":"evt_1","type":"user.created","data":{}}'
    header = cyrisma.webhooks.sign(body, "whsec_1")
    with pytest.raises(cyrisma.WebhookVerificationError) as caught:
        cyrisma.webhooks.verify(body + b" ", header, "whsec_1")
    assert caught.value.reason == "mismatch"


def test_invalid_arguments_name_the_argument(emulator: cyrisma.Emulator) -> None:
    client = emulator.client()
    cases = [
        (lambda: cyrisma.Client(api_secret="s"), "api_key"),
        (lambda: cyrisma.Client(api_key="k"), "api_secret"),
        (lambda: cyrisma.Client(api_key="k", api_secret="s", timeout=-1), "timeout"),
        (lambda: cyrisma.Client(api_key="k", api_secret="s", max_retries=-1), "max_retries"),
        (lambda: cyrisma.Client(api_key="k", api_secret="s", concurrency=0), "concurrency"),
        (lambda: cyrisma.Client(api_key="k", api_secret="s", resolve="nonsense"), "resolve"),
        (lambda: cyrisma.Client(api_key="k", api_secret="s", base_url="ftp://x"), "base_url"),
        (lambda: cyrisma.Client(api_key="k", api_secret="s", ca_cert="/no/such/ca.pem"), "ca_cert"),
        (lambda: client.instances.set_mfa("cc100001", 9), "mfa_type"),
        (lambda: client.instance("cc100001").assets("sideways"), "kind"),  # type: ignore[arg-type]
        (lambda: client.webhooks.create("https://example.com/h", ["no.such.event"]), "events"),
        (lambda: client.export_findings("x.json", format="xml"), "format"),  # type: ignore[arg-type]
        (
            lambda: client.instances.create(
                instance_type="standard", parent_instance_id="cc100001", name=" ", short_name="s", country="US", email="e@x"
            ),
            "name",
        ),
        (
            lambda: client.instances.create(
                instance_type="galaxy", parent_instance_id="cc100001", name="n", short_name="s", country="US", email="e@x"
            ),
            "instance_type",
        ),
    ]
    for call, argument in cases:
        with pytest.raises(cyrisma.InvalidArgumentError) as caught:
            call()
        assert caught.value.argument == argument, (argument, caught.value)
        assert isinstance(caught.value, ValueError)
        assert argument in str(caught.value)
