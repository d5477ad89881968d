"""Result objects: attributes named as in the contract, liberal parsing, ``to_dict()`` with
everything the server sent, and ``repr()`` without secrets."""

from __future__ import annotations

import json

import pytest
from conftest import standard_instances

import cyrisma


def test_attributes_parse_liberally_and_keep_unknown_fields() -> None:
    instance = cyrisma.Instance.from_json(
        json.dumps(
            {
                "instance_id": "cc123456",
                "name": "Acme",
                "instance_type": "standard",
                "is_consulting": "true",
                "number_of_endpoints": "42",
                "mfa": 2,
                "url": "cc123456.cyrisma.com",
                "status": "active",
                "brand_new_field": {"nested": [1, 2]},
            }
        )
    )
    assert instance.instance_id == "cc123456"
    assert instance.is_consulting is True
    assert instance.number_of_endpoints == 42
    assert instance.mfa == 2
    assert instance.extra == {"brand_new_field": {"nested": [1, 2]}}
    assert instance.brand_new_field == {"nested": [1, 2]}  # unknown fields read as attributes
    data = instance.to_dict()
    assert data["brand_new_field"] == {"nested": [1, 2]}
    assert data["number_of_endpoints"] == 42
    assert json.loads(instance.to_json()) == data
    with pytest.raises(AttributeError):
        _ = instance.no_such_field


def test_wire_keys_are_attributes_too() -> None:
    asset = cyrisma.Asset.from_json(
        b'{"id": "1", "assetId": "A-1", "name": "web01", "ipAddress": "10.0.0.5",'
        b' "OpenPorts": [{"PortNumber": "443", "portDescription": "HTTPS", "riskLevel": "low"}],'
        b' "vulnerabilities": [{"cve": "CVE-2021-44228", "title": "Log4Shell", "score": "10.0",'
        b' "riskLevel": "Critical", "firstSeen": "2024-01-02", "affectedUrls": 3}]}'
    )
    assert asset.asset_id == "A-1" and asset.identifier == "A-1"
    assert asset.ip_address == "10.0.0.5"
    assert asset.ipAddress == "10.0.0.5"
    port = asset.open_ports[0]
    assert port.port_number == "443" and port.port == 443 and port.risk_level == "Low"
    vulnerability = asset.vulnerabilities[0]
    assert vulnerability.score == 10.0
    assert vulnerability.risk_level == "Critical"
    assert vulnerability.riskLevel == "Critical"
    assert vulnerability.affected_urls == 3 and vulnerability.affected_url_count == 3
    assert asset.to_dict()["openPorts"][0]["portNumber"] == "443"


def test_scan_detail_is_a_lazy_sequence(emulator: cyrisma.Emulator) -> None:
    client = emulator.client()
    instance = client.instance(standard_instances(emulator)[0].instance_id)
    scans = instance.vulnerability_scans()
    detail = instance.vulnerability_scan(scans[0].scan_id)
    assert len(detail) == len(detail.assets) == len(list(detail))
    assert detail[-1].to_dict() == detail.assets[-1].to_dict()
    with pytest.raises(IndexError):
        _ = detail[len(detail)]
    pairs = detail.vulnerabilities() + detail.open_ports() + detail.flaws()
    assert len(pairs) == sum(len(a.vulnerabilities) + len(a.open_ports) + len(a.flaws) for a in detail)
    for asset, finding in pairs:
        assert isinstance(asset, cyrisma.Asset)
        assert isinstance(finding, (cyrisma.Vulnerability, cyrisma.OpenPort, cyrisma.Flaw))
    whole = detail.to_dict()
    assert set(whole) == {"assets"}
    assert len(whole["assets"]) == len(detail)
    assert repr(detail) == f"ScanDetail(assets=<{len(detail)} items>)"
    # A view keeps the document alive after its parents are gone.
    first_asset = detail[0]
    del detail
    assert first_asset.name is not None


def test_web_application_flaws(emulator: cyrisma.Emulator) -> None:
    client = emulator.client()
    instance = client.instance(standard_instances(emulator)[0].instance_id)
    web = [scan for scan in instance.vulnerability_scans() if scan.is_web_application]
    assert web
    flaws = [flaw for _, flaw in instance.vulnerability_scan(web[0].scan_id).flaws()]
    assert flaws
    flaw = flaws[0]
    assert flaw.alert_name and flaw.risk_level
    assert all(isinstance(i, cyrisma.FlawInstance) for i in flaw.instances)
    assert isinstance(flaw.references, list)


def test_secrets_never_show_in_repr(emulator: cyrisma.Emulator) -> None:
    secret_value = emulator.api_secret
    client = emulator.client()
    assert secret_value not in repr(client)
    assert secret_value not in repr(emulator) + str(emulator)
    assert secret_value not in repr(emulator.client_options())
    secret = cyrisma.Secret("hunter2-canary")
    assert "hunter2" not in repr(secret) + str(secret) + f"{secret}" + f"{secret!r}"
    assert secret.get_secret_value() == "hunter2-canary"
    assert secret == cyrisma.Secret("hunter2-canary") and secret != cyrisma.Secret("other")
    hook = client.webhooks.create("http://127.0.0.1:9/h", ["user.created"])
    assert hook.secret is not None
    assert hook.secret.get_secret_value() not in repr(hook) + repr(hook.secret)
    try:
        cyrisma.Client(api_key="k", api_secret="canary-secret-123", base_url="ftp://nowhere")
    except cyrisma.InvalidArgumentError as error:
        assert "canary-secret-123" not in str(error) + repr(error)


def test_reprs_identify_the_object(emulator: cyrisma.Emulator) -> None:
    client = emulator.client()
    instance = client.instances.list()[0]
    assert repr(instance).startswith(f"Instance(instance_id='{instance.instance_id}'")
    assert repr(client.instance("cc100004")) == "InstanceClient(id='cc100004')"
    assert repr(emulator).startswith("Emulator(base_url=")


def test_dashboards_and_grades() -> None:
    dashboard = cyrisma.OverallDashboard.from_json(
        '{"current_or_grade": "B+", "previous_or_grade": "", "current_vn_grade": "a-", "grading_period": "Quarterly"}'
    )
    assert dashboard.current_or_grade == "B+"
    assert dashboard.previous_or_grade is None
    assert dashboard.current_vn_grade == "A-"
    assert dashboard.grading_period == "quarterly"
    assert dashboard.areas[0] == ("or", "Overall risk", "B+", None)


def test_users_enabled_is_a_bool() -> None:
    user = cyrisma.User.from_json('{"id": "7", "username": "a@b.c", "enabled": "false", "instance_id": "cc1"}')
    assert user.enabled is False and not user.is_enabled
    assert user.to_dict()["enabled"] == "false"


def test_webhook_event_model() -> None:
    event = cyrisma.WebhookEvent.from_json(
        '{"id": "evt_9", "type": "scan.completed", "instance_id": "cc1", "data": {"scan_id": "s1"}}'
    )
    assert event.event_type == "scan.completed"
    assert event.data == {"scan_id": "s1"}
    assert event.to_dict()["type"] == "scan.completed"
