"""A tour of the ``cyrisma`` package against the offline emulator (checked by ``mypy --strict``).

Run it with ``python examples/quickstart.py``; with ``Client.from_env()`` instead of the emulator
the same code talks to the real API.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import cyrisma


def sync_tour(emulator: cyrisma.Emulator) -> None:
    client = emulator.client(timeout=30, max_retries=2)

    # Provisioning (central host).
    instances: list[cyrisma.Instance] = client.instances.list()
    organizations = [instance for instance in instances if instance.is_organization]
    customers = [instance for instance in instances if not instance.is_organization]
    print(f"{len(organizations)} organizations, {len(customers)} instances")
    created = client.instances.create(
        instance_type="standard",
        parent_instance_id=organizations[0].instance_id,
        name="Example Dental",
        short_name="exdental",
        country="US",
        email="it@example.com",
    )
    ready = client.instances.wait_until_active(created.instance_id, timeout=60)
    print("created", ready.instance_id, ready.status)
    user = client.users.create(
        instance_id=organizations[0].instance_id, username="ops@example.com", first_name="Op", last_name="S"
    )
    print("user", user.username, user.is_enabled)

    # Reporting (instance hosts).
    reporting = client.instance(customers[0].instance_id)
    scans = reporting.vulnerability_scans()
    for scan in scans:
        print(scan.scan_id, scan.scan_type, scan.grade_alpha, scan.total_vulnerabilities)
    detail = reporting.vulnerability_scan(scans[0].scan_id)
    for asset, vulnerability in detail.vulnerabilities():
        score: float | None = vulnerability.score
        print(asset.name, vulnerability.cve, vulnerability.risk_level, score)
    dashboard = reporting.dashboard_overall()
    for key, name, current, previous in dashboard.areas:
        print(key, name, current, previous)

    # Cross-instance helpers.
    report = client.report(concurrency=8)
    for entry in report:
        print(entry.instance_id, entry.overall_current, entry.critical)
    for failure in report.errors:
        print("failed:", failure.instance_id, failure.error)
    with tempfile.TemporaryDirectory() as directory:
        summary = client.export_findings(Path(directory) / "findings.csv", format="csv")
        print(summary.findings, "findings from", summary.instances, "instances")
    total = client.usage()[-1]
    print("endpoints in total:", total.endpoints)

    # Errors.
    try:
        client.instances.get("cc999999")
    except cyrisma.NotFoundError as error:
        print(error.status, error.code, error.request_id)
    except cyrisma.APIError as error:
        print("api error", error.status)
    except cyrisma.TransportError as error:
        print("no answer:", error)

    # Secret rotation: store the new secret durably before anything else.
    saved: list[str] = []

    def store(secret: cyrisma.Secret) -> None:
        saved.append(secret.get_secret_value())

    new_secret = client.rotate_secret(store)
    print("rotated:", new_secret)  # prints Secret('**********')


async def async_tour(emulator: cyrisma.Emulator) -> None:
    async with emulator.async_client() as client:
        instances = await client.instances.list()
        ids = [i.instance_id for i in instances if not i.is_organization and not i.is_suspended]
        dashboards = await asyncio.gather(*(client.instance(id_).dashboard_overall() for id_ in ids))
        for id_, dashboard in zip(ids, dashboards):
            print(id_, dashboard.current_or_grade)
        # Methods are coroutines: tasks work too.
        users_task = asyncio.create_task(client.users.list())
        report = await client.report()
        print(len(report), "instances reported,", len(await users_task), "users")


def webhook_tour() -> None:
    body = b'{"id":"evt_1","type":"scan.completed","created_at":"2026-01-01T00:00:00Z","data":{}}'
    header = cyrisma.webhooks.sign(body, "whsec_example")
    event = cyrisma.webhooks.verify(body, header, "whsec_example")
    print(event.id, event.event_type)
    try:
        cyrisma.webhooks.verify(body, header, "wrong-secret")
    except cyrisma.WebhookVerificationError as error:
        print("refused:", error.reason)


def main() -> None:
    with cyrisma.Emulator(seed=7) as emulator:
        sync_tour(emulator)
        asyncio.run(async_tour(emulator))
    webhook_tour()


if __name__ == "__main__":
    main()
