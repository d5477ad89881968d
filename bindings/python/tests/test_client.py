"""Every method of the client, in sync and async form (the ``api`` fixture), against the
emulator over HTTPS with real host names."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import Api, organizations, standard_instances

import cyrisma


def test_instances_list_and_get(api: Api, emulator: cyrisma.Emulator) -> None:
    client = api.client(emulator)
    listed = api(client.instances.list())
    assert [i.instance_id for i in listed] == [i.instance_id for i in emulator.instances()]
    assert all(isinstance(i, cyrisma.Instance) for i in listed)
    first = standard_instances(emulator)[0]
    got = api(client.instances.get(first.instance_id))
    assert got.instance_id == first.instance_id
    assert got.name == first.name
    assert got.instance_type == "standard"
    assert isinstance(got.number_of_endpoints, int)
    assert got.url is not None and got.url.endswith("cyrisma.test")
    assert got.status == "active"


def test_instance_create_wait_convert_suspend_reactivate(api: Api, emulator: cyrisma.Emulator) -> None:
    client = api.client(emulator)
    org = organizations(emulator)[0]
    created = api(
        client.instances.create(
            instance_type="standard",
            parent_instance_id=org.instance_id,
            name="Example Dental",
            short_name="exdental",
            country="US",
            email="it@example.com",
            is_consulting=True,
            tenant_id="tenant-1",
            city="Austin",
        )
    )
    assert isinstance(created, cyrisma.CreatedInstance)
    assert created.instance_id.startswith("cc")
    active = api(client.instances.wait_until_active(created.instance_id, timeout=30))
    assert active.status == "active"
    assert active.is_consulting is True
    converted = api(client.instances.convert(created.instance_id))
    assert isinstance(converted, cyrisma.ConvertedInstance)
    assert converted.instance_id == created.instance_id
    suspended = api(client.instances.suspend(created.instance_id))
    assert suspended.status == "suspended"
    assert api(client.instances.get(created.instance_id)).is_suspended
    reactivated = api(client.instances.reactivate(created.instance_id))
    assert reactivated.status == "active"


def test_set_mfa_and_authenticate(api: Api, emulator: cyrisma.Emulator) -> None:
    client = api.client(emulator)
    org = organizations(emulator)[0]
    change = api(client.instances.set_mfa(org.instance_id, 2))
    assert isinstance(change, cyrisma.MfaChange)
    assert change.mfa_type == 2
    assert api(client.instances.set_mfa(org.instance_id, "email")).mfa_type == 1
    assert api(client.instances.get(org.instance_id)).mfa == 1
    one = standard_instances(emulator)[0].instance_id
    login = api(client.instances.authenticate(one))
    assert isinstance(login, cyrisma.InstanceLogin)
    assert one in login.succeeded_ids
    everyone = api(client.instances.authenticate())
    assert set(everyone.succeeded_ids) >= {i.instance_id for i in standard_instances(emulator)}


def test_users(api: Api, emulator: cyrisma.Emulator) -> None:
    client = api.client(emulator)
    users = api(client.users.list())
    assert users and all(isinstance(u, cyrisma.User) for u in users)
    org = organizations(emulator)[0]
    created = api(client.users.create(instance_id=org.instance_id, username="new.user@example.com", first_name="New", last_name="User"))
    assert created.username == "new.user@example.com"
    assert created.enabled is True and created.is_enabled
    assert api(client.users.get(created.id)).username == "new.user@example.com"
    assert api(client.users.get("new.user@example.com")).id == created.id
    disabled = api(client.users.disable(created.username))
    assert disabled.enabled is False
    assert len(api(client.users.list())) == len(users) + 1


def test_webhook_registrations(api: Api, emulator: cyrisma.Emulator) -> None:
    client = api.client(emulator)
    assert api(client.webhooks.list()) == []
    hook = api(client.webhooks.create("http://127.0.0.1:9/hook", ["scan.completed", "user.created"]))
    assert isinstance(hook, cyrisma.Webhook)
    assert hook.events == ["scan.completed", "user.created"]
    assert isinstance(hook.secret, cyrisma.Secret) and hook.secret.get_secret_value()
    assert hook.secret.get_secret_value() not in repr(hook)
    listed = api(client.webhooks.list())
    assert [h.webhook_id for h in listed] == [hook.webhook_id]
    assert listed[0].secret is None
    api(client.webhooks.create("http://127.0.0.1:9/other", "instance.suspended, instance.reactivated"))
    deleted = api(client.webhooks.delete(hook.webhook_id))
    assert isinstance(deleted, cyrisma.DeletedWebhook)
    assert [h.url for h in api(client.webhooks.list())] == ["http://127.0.0.1:9/other"]


def test_reporting_calls(api: Api, emulator: cyrisma.Emulator) -> None:
    client = api.client(emulator)
    target = standard_instances(emulator)[0]
    instance = client.instance(target.instance_id)
    assert instance.id == target.instance_id
    scans = api(instance.vulnerability_scans())
    assert isinstance(scans, cyrisma.VulnerabilityScans)
    assert len(scans) == 4 and len(scans.vulnerability_scans) == 4
    assert {scan.scan_type for scan in scans} <= {5, 9, 10, 11}
    for scan in scans:
        detail = api(instance.vulnerability_scan(scan.scan_id))
        assert isinstance(detail, cyrisma.ScanDetail)
        assert len(detail) == 6
        if scan.is_web_application:
            assert any(asset.flaws for asset in detail)
        else:
            assert all(isinstance(asset, cyrisma.Asset) for asset in detail.assets)
    data = api(instance.data_scans())
    assert isinstance(data, cyrisma.DataScans) and all(isinstance(s, cyrisma.DataScan) for s in data)
    baseline = api(instance.baseline_scans())
    assert isinstance(baseline, cyrisma.BaselineScans) and all(isinstance(s, cyrisma.BaselineScan) for s in baseline)
    overall = api(instance.dashboard_overall())
    assert isinstance(overall, cyrisma.OverallDashboard)
    assert [area[0] for area in overall.areas] == ["or", "ds", "vn", "sb", "cp"]
    assert overall.grading_period in ("monthly", "quarterly")
    assert isinstance(api(instance.dashboard_data()), cyrisma.DataDashboard)
    baseline_dashboard = api(instance.dashboard_baseline())
    assert isinstance(baseline_dashboard, cyrisma.BaselineDashboard)
    assert all(isinstance(t, cyrisma.BaselineTarget) for t in baseline_dashboard.targets)
    vulnerability = api(instance.dashboard_vulnerability())
    assert isinstance(vulnerability, cyrisma.VulnerabilityDashboard)
    cves = api(instance.cves())
    assert isinstance(cves, cyrisma.Cves) and len(cves) > 0
    first = cves[0].cve
    only = api(instance.cves(cve_id=first))
    assert [c.cve for c in only] == [first]
    assert cves.find(first.lower()) is not None
    internal = api(instance.assets("internal"))
    external = api(instance.assets("external"))
    assert all(isinstance(a, cyrisma.Asset) for a in internal + external)
    assert internal or external
    if internal:
        asset_id = internal[0].identifier
        assert asset_id is not None
        found = api(instance.authenticated_asset(asset_id))
        assert isinstance(found, list)
    if external:
        address = external[0].ip_address
        assert address is not None
        found = api(instance.ip_asset(address))
        assert isinstance(found, list)
    assert api(instance.authenticated_asset("no-such-asset")) == []
    assert instance.name == target.name


def test_report(api: Api, emulator: cyrisma.Emulator) -> None:
    client = api.client(emulator)
    report = api(client.report())
    assert isinstance(report, cyrisma.Report)
    ids = [entry.instance_id for entry in report]
    expected = sorted(i.instance_id for i in emulator.instances() if not i.is_organization and not i.is_suspended)
    assert ids == expected
    assert report.errors == []
    entry = report[0]
    assert isinstance(entry, cyrisma.ReportEntry)
    assert entry.overall_current is not None
    assert set(entry.to_dict()) >= {"instance_id", "overall_current", "critical", "compliance_previous"}
    chosen = api(client.report(instances=[ids[0], "cc999999"], concurrency=2))
    assert [e.instance_id for e in chosen] == [ids[0]]
    assert [(f.instance_id, f.status) for f in chosen.errors] == [("cc999999", 404)]


def test_report_keeps_going_when_one_instance_fails(api: Api, emulator: cyrisma.Emulator) -> None:
    client = api.client(emulator, max_retries=0)
    victim = standard_instances(emulator)[1].instance_id
    emulator.fail(500, endpoint="dashboards.get_overall_dashboard", host=victim)
    report = api(client.report())
    assert victim not in [e.instance_id for e in report]
    assert [f.instance_id for f in report.errors] == [victim]
    assert report.errors[0].status == 500
    assert report.errors[0].request_id


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_export_findings(api: Api, emulator: cyrisma.Emulator, tmp_path: Path, fmt: str) -> None:
    client = api.client(emulator)
    path = tmp_path / f"findings.{fmt}"
    summary = api(client.export_findings(path, format=fmt))
    assert isinstance(summary, cyrisma.ExportSummary)
    assert summary.path == str(path)
    assert summary.format == fmt
    assert summary.findings > 0
    assert summary.instances == len([i for i in emulator.instances() if not i.is_organization and not i.is_suspended])
    text = path.read_text()
    rows: list[dict[str, Any]]
    if fmt == "jsonl":
        rows = [json.loads(line) for line in text.splitlines()]
    elif fmt == "json":
        rows = json.loads(text)
    else:
        rows = list(csv.DictReader(text.splitlines()))
    assert len(rows) == summary.findings
    assert list(rows[0]) == [
        "instance_id", "instance_name", "scan_id", "scan_type", "scan_finished", "asset_id", "asset_name",
        "asset_address", "kind", "finding", "title", "risk_level", "score", "first_seen",
    ]
    assert {row["kind"] for row in rows} <= {"vulnerability", "open_port", "web_flaw"}
    if os.name == "posix":
        assert path.stat().st_mode & 0o077 == 0


def test_export_partial_failure(api: Api, emulator: cyrisma.Emulator, tmp_path: Path) -> None:
    client = api.client(emulator, max_retries=0)
    victim = standard_instances(emulator)[0].instance_id
    emulator.fail(503, endpoint="scans.list_vulnerability_scans", host=victim, retry_after="0")
    path = tmp_path / "out.jsonl"
    error = api.raises(cyrisma.CyrismaError, lambda: client.export_findings(path))
    assert victim in str(error)
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []
    summary = api(client.export_findings(path, allow_partial=True, instances=[victim, standard_instances(emulator)[1].instance_id]))
    assert [f.instance_id for f in summary.errors] == [victim]
    assert summary.instances == 1
    assert path.exists()


def test_usage(api: Api, emulator: cyrisma.Emulator) -> None:
    client = api.client(emulator)
    rows = api(client.usage())
    assert all(isinstance(row, cyrisma.UsageRow) for row in rows)
    total = rows[-1]
    assert total.scope == "total"
    instances = emulator.instances()
    assert total.endpoints == sum(i.number_of_endpoints or 0 for i in instances)
    assert total.instances == len([i for i in instances if not i.is_organization])
    assert total.users == len(emulator.users())
    assert total.suspended == len([i for i in instances if i.is_suspended])
    org = organizations(emulator)[0].instance_id
    only = api(client.usage(organization=org))
    assert only[-1].scope == "organization" and only[-1].id == org
    assert all(row.organization_id == org for row in only[:-1])


def test_rotate_secret(api: Api, emulator: cyrisma.Emulator) -> None:
    client = api.client(emulator)
    old = emulator.api_secret
    stored: list[cyrisma.Secret] = []
    new = api(client.rotate_secret(stored.append))
    assert isinstance(new, cyrisma.Secret)
    assert [s.get_secret_value() for s in stored] == [emulator.api_secret]
    assert new.get_secret_value() == emulator.api_secret != old
    assert emulator.count("auth.regen_pass") == 1
    assert api(client.users.list())  # the client goes on with the new secret
    assert "**" in repr(new) and new.get_secret_value() not in repr(new) + str(new)


@pytest.mark.asyncio
async def test_async_rotate_secret_with_a_coroutine_store(emulator: cyrisma.Emulator) -> None:
    client = emulator.async_client()
    stored: list[str] = []

    async def store(secret: cyrisma.Secret) -> None:
        stored.append(secret.get_secret_value())

    new = await client.rotate_secret(store)
    assert stored == [new.get_secret_value()] == [emulator.api_secret]


def test_sync_rotate_secret_refuses_a_coroutine_store(emulator: cyrisma.Emulator) -> None:
    client = emulator.client()

    async def store(secret: cyrisma.Secret) -> None:  # pragma: no cover - never awaited
        pass

    with pytest.raises(cyrisma.SecretRotationError) as caught:
        client.rotate_secret(store)
    assert caught.value.saved is False
    assert isinstance(caught.value.__cause__, TypeError)
    assert caught.value.secret is not None
    assert caught.value.secret.get_secret_value() == emulator.api_secret


def test_refresh_instances(api: Api, emulator: cyrisma.Emulator) -> None:
    client = api.client(emulator)
    assert len(api(client.refresh_instances())) == len(emulator.instances())


def test_from_env(api: Api, emulator: cyrisma.Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in emulator.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CYRISMA_TIMEOUT", "20")
    cls = cyrisma.AsyncClient if api.mode == "async" else cyrisma.Client
    client = cls.from_env(max_retries=1)
    assert client.base_url == emulator.base_url
    assert client.api_key == emulator.api_key
    assert api(client.users.list())
    monkeypatch.setenv("CYRISMA_TIMEOUT", "soon")
    with pytest.raises(cyrisma.InvalidArgumentError) as caught:
        cls.from_env()
    assert caught.value.argument == "CYRISMA_TIMEOUT"


def test_client_properties_and_context_manager(emulator: cyrisma.Emulator) -> None:
    with emulator.client() as client:
        assert client.allowed_domain == "cyrisma.test"
        assert client.logins_performed == 0
        client.users.list()
        client.users.list()
        assert client.logins_performed == 1
        assert client.connections_opened >= 1


@pytest.mark.asyncio
async def test_async_client_context_manager(emulator: cyrisma.Emulator) -> None:
    async with emulator.async_client() as client:
        assert isinstance(client.sync, cyrisma.Client)
        assert await client.users.list()
        assert repr(client).startswith("AsyncClient(")


def test_from_env_reads_the_cli_concurrency(emulator: cyrisma.Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in emulator.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CYRISMA_CONCURRENCY", "3")
    assert len(cyrisma.Client.from_env().report()) > 0
    monkeypatch.setenv("CYRISMA_CONCURRENCY", "many")
    with pytest.raises(cyrisma.InvalidArgumentError) as caught:
        cyrisma.Client.from_env()
    assert caught.value.argument == "CYRISMA_CONCURRENCY"
    assert isinstance(cyrisma.Client.from_env(concurrency=2), cyrisma.Client)


def test_resolve_accepts_a_mapping_of_host_to_address(api: Api, emulator: cyrisma.Emulator) -> None:
    mapping = dict(entry.split("=", 1) for entry in emulator.resolve.split(","))
    assert mapping, emulator.resolve
    client = api.client(emulator, resolve=mapping)
    assert api(client.instances.list()), "the mapping routes the calls to the emulator"
    for bad in ({"*.cyrisma.test": 1}, {"a=b": "127.0.0.1"}, {"*.cyrisma.test": "not an address"}):
        with pytest.raises(ValueError, match="resolve"):
            api.client(emulator, resolve=bad)


def test_emulator_moves_through_time(api: Api) -> None:
    with cyrisma.Emulator(seed=5, organizations=2, instances=4, scans_per_instance=4, history_periods=2) as emu:
        client = api.client(emu)
        instance = client.instance(standard_instances(emu)[0].instance_id)
        assert len(api(instance.vulnerability_scans())) == 4 + 2 * 4
        assert emu.advance(30) == 3
        assert emu.advance(1, churn=False) == 4
        scans = list(api(instance.vulnerability_scans()))
        assert len(scans) == 4 + 4 * 4
        assert len({scan.scan_id for scan in scans}) == len(scans)
        with pytest.raises(cyrisma.InvalidArgumentError):
            emu.advance(0)


@pytest.mark.asyncio
async def test_blocking_and_async_calls_on_one_client_each_use_connections_they_drive(
    emulator: cyrisma.Emulator,
) -> None:
    # A blocking call runs on the calling thread's runtime, whose idle connections nobody polls
    # between blocking calls; an async call that got one of them would wait for the timeout (and
    # fail here: no retry). Each kind of call must use connections of its own.
    async with emulator.async_client(max_retries=0, timeout=20) as client:
        assert client.sync.users.list()
        opened = client.sync.connections_opened
        assert await client.users.list()
        assert client.sync.connections_opened == opened + 1
        assert client.sync.users.list()
        assert await client.users.list()
        assert client.sync.connections_opened == opened + 1
