//! The Python-only choices of the generated surface: one entry per Python model class and one
//! method table for the client's namespaces. Everything else comes from the core's declarations
//! (`cyrisma_core::types::MODELS` and `ENUMS`).

/// How one core wire model is shown in Python. The attributes, their types and their docs come
/// from the model's `SCHEMA`; this says what the core cannot know.
pub(crate) struct PyModel {
    /// The core model (and Python class) name.
    pub(crate) model: &'static str,
    /// The class docstring (the first line is also the stub's docstring).
    pub(crate) doc: &'static str,
    /// The attributes shown by `repr()`, in order.
    pub(crate) repr: &'static [&'static str],
    /// Fields whose attribute is written by hand in `models.rs` (the stub still lists them, with
    /// this Python type).
    pub(crate) by_hand: &'static [(&'static str, &'static str)],
    /// Python docstrings of fields whose core doc speaks of Rust (the others come from the core).
    pub(crate) docs: &'static [(&'static str, &'static str)],
    /// A Rust closure that takes out the part of a big model to free off the calling thread.
    pub(crate) bulk: Option<&'static str>,
    /// Stub lines of the members written by hand in `models.rs` (after the generated ones).
    pub(crate) extra_stubs: &'static [&'static str],
}

/// Core models that have no Python class.
pub(crate) const NOT_IN_PYTHON: &[&str] = &["ErrorBody"];

/// The Python model classes, in the order of `cyrisma_core::types::MODELS`.
pub(crate) const PY_MODELS: &[PyModel] = &[
    PyModel {
        model: "Instance",
        doc: "An organization (``msp``, ``mssp``) or instance (``standard``) of the partner's structure.",
        repr: &["instance_id", "name", "instance_type", "status"],
        by_hand: &[],
        docs: &[("mfa", "The MFA method of an organization: 0 none, 1 email, 2 authenticator.")],
        bulk: None,
        extra_stubs: &[
            "@property\ndef is_organization(self) -> bool: ...",
            "@property\ndef is_suspended(self) -> bool: ...",
        ],
    },
    PyModel {
        model: "CreatedInstance",
        doc: "The answer to creating an organization or instance.",
        repr: &["instance_id"],
        by_hand: &[],
        docs: &[],
        bulk: None,
        extra_stubs: &[],
    },
    PyModel {
        model: "ConvertedInstance",
        doc: "The answer to converting a consulting instance.",
        repr: &["instance_id", "name", "consulting_status"],
        by_hand: &[],
        docs: &[],
        bulk: None,
        extra_stubs: &[],
    },
    PyModel {
        model: "InstanceStatusChange",
        doc: "The answer to suspending or reactivating an instance.",
        repr: &["instance_id", "name", "status"],
        by_hand: &[],
        docs: &[],
        bulk: None,
        extra_stubs: &[],
    },
    PyModel {
        model: "MfaChange",
        doc: "The answer to changing an organization's MFA method.",
        repr: &["instance_id", "mfa_type"],
        by_hand: &[],
        docs: &[("mfa_type", "The new MFA method: 0 none, 1 email, 2 authenticator.")],
        bulk: None,
        extra_stubs: &[],
    },
    PyModel {
        model: "InstanceLogin",
        doc: "The answer to instance authentication: which instances accepted the token.",
        repr: &["success_token_inserts", "failed_token_inserts"],
        by_hand: &[],
        docs: &[],
        bulk: None,
        extra_stubs: &[
            "@property\ndef succeeded_ids(self) -> list[str]: ...",
            "@property\ndef failed_ids(self) -> list[str]: ...",
        ],
    },
    PyModel {
        model: "User",
        doc: "A user under an organization.",
        repr: &["id", "username", "enabled"],
        by_hand: &[],
        docs: &[],
        bulk: None,
        extra_stubs: &["@property\ndef is_enabled(self) -> bool: ..."],
    },
    PyModel {
        model: "VulnerabilityScan",
        doc: "One vulnerability scan of an instance's scan summary.",
        repr: &["scan_id", "scan_type", "scan_name", "grade_alpha"],
        by_hand: &[],
        docs: &[("scan_type", "The scan type code: 5, 9, 10 or 11.")],
        bulk: None,
        extra_stubs: &[
            "@property\ndef is_web_application(self) -> bool: ...",
            "@property\ndef total_vulnerabilities(self) -> int | None: ...",
        ],
    },
    PyModel {
        model: "VulnerabilityScans",
        doc: "An instance's vulnerability scans (a sequence of :class:`VulnerabilityScan`).",
        repr: &[],
        by_hand: &[],
        docs: &[],
        bulk: None,
        extra_stubs: &[],
    },
    PyModel {
        model: "ScanDetail",
        doc: "One scan's detail: the scanned assets (a sequence of :class:`Asset`).",
        repr: &[],
        by_hand: &[],
        docs: &[],
        bulk: Some("|detail| super::take_bulk_assets(detail)"),
        extra_stubs: &[
            "def vulnerabilities(self) -> list[tuple[Asset, Vulnerability]]: ...",
            "def open_ports(self) -> list[tuple[Asset, OpenPort]]: ...",
            "def flaws(self) -> list[tuple[Asset, Flaw]]: ...",
        ],
    },
    PyModel {
        model: "Asset",
        doc: "A scanned asset, with its vulnerabilities, open ports and web flaws.",
        repr: &["id", "asset_id", "name", "ip_address"],
        by_hand: &[],
        docs: &[],
        bulk: None,
        extra_stubs: &["@property\ndef identifier(self) -> str | None: ..."],
    },
    PyModel {
        model: "Vulnerability",
        doc: "A vulnerability found on an asset.",
        repr: &["cve", "title", "risk_level", "score"],
        by_hand: &[],
        docs: &[],
        bulk: None,
        extra_stubs: &["@property\ndef affected_url_count(self) -> int | None: ..."],
    },
    PyModel {
        model: "OpenPort",
        doc: "An open port found on an asset.",
        repr: &["port_number", "port_description", "risk_level"],
        by_hand: &[],
        docs: &[],
        bulk: None,
        extra_stubs: &["@property\ndef port(self) -> int | None: ..."],
    },
    PyModel {
        model: "Flaw",
        doc: "A web application flaw. ``alert_desc`` and ``alert_solution`` are HTML from the server:\nescape them before showing them in a page.",
        repr: &["alert_id", "alert_name", "risk_level"],
        by_hand: &[],
        docs: &[],
        bulk: None,
        extra_stubs: &[],
    },
    PyModel {
        model: "FlawInstance",
        doc: "One place where a web application flaw was seen.",
        repr: &["uri", "method", "param"],
        by_hand: &[],
        docs: &[],
        bulk: None,
        extra_stubs: &[],
    },
    PyModel {
        model: "DataScan",
        doc: "One data (sensitive data) scan.",
        repr: &["scan_id", "scan_name", "grade_alpha"],
        by_hand: &[],
        docs: &[],
        bulk: None,
        extra_stubs: &[],
    },
    PyModel {
        model: "DataScans",
        doc: "An instance's data scans (a sequence of :class:`DataScan`).",
        repr: &[],
        by_hand: &[],
        docs: &[],
        bulk: None,
        extra_stubs: &[],
    },
    PyModel {
        model: "BaselineScan",
        doc: "One secure baseline scan.",
        repr: &["scan_id", "scan_name", "grade_alpha"],
        by_hand: &[("targets", "int | list[BaselineTarget] | None")],
        docs: &[],
        bulk: None,
        extra_stubs: &["@property\ndef target_count(self) -> int | None: ..."],
    },
    PyModel {
        model: "BaselineScans",
        doc: "An instance's secure baseline scans (a sequence of :class:`BaselineScan`).",
        repr: &[],
        by_hand: &[],
        docs: &[],
        bulk: None,
        extra_stubs: &[],
    },
    PyModel {
        model: "BaselineTarget",
        doc: "A target of the baseline dashboard, with its grade.",
        repr: &["name", "grade"],
        by_hand: &[],
        docs: &[],
        bulk: None,
        extra_stubs: &[],
    },
    PyModel {
        model: "OverallDashboard",
        doc: "Current and previous grades of the five areas: overall risk (``or``), data (``ds``),\nvulnerability (``vn``), secure baseline (``sb``) and compliance (``cp``).",
        repr: &["current_or_grade", "previous_or_grade", "grading_period"],
        by_hand: &[],
        docs: &[],
        bulk: None,
        extra_stubs: &["@property\ndef areas(self) -> list[tuple[str, str, str | None, str | None]]: ..."],
    },
    PyModel {
        model: "DataDashboard",
        doc: "The data dashboard.",
        repr: &["current_grade", "previous_grade", "grading_period"],
        by_hand: &[],
        docs: &[],
        bulk: None,
        extra_stubs: &[],
    },
    PyModel {
        model: "BaselineDashboard",
        doc: "The secure baseline dashboard.",
        repr: &["current_grade", "previous_grade", "grading_period"],
        by_hand: &[],
        docs: &[],
        bulk: None,
        extra_stubs: &[],
    },
    PyModel {
        model: "VulnerabilityDashboard",
        doc: "The vulnerability dashboard.",
        repr: &["current_grade", "previous_grade", "critical", "high", "medium", "low"],
        by_hand: &[],
        docs: &[],
        bulk: None,
        extra_stubs: &[],
    },
    PyModel {
        model: "Cve",
        doc: "One CVE found on an instance.",
        repr: &["cve", "title", "score", "risk_level"],
        by_hand: &[],
        docs: &[],
        bulk: None,
        extra_stubs: &[],
    },
    PyModel {
        model: "Cves",
        doc: "An instance's CVEs (a sequence of :class:`Cve`).",
        repr: &[],
        by_hand: &[],
        docs: &[],
        bulk: None,
        extra_stubs: &["def find(self, cve_id: str) -> Cve | None: ..."],
    },
    PyModel {
        model: "Webhook",
        doc: "A webhook registration (provisional contract). ``secret`` is only in the answer to\n``create``: store it, it is not shown again.",
        repr: &["webhook_id", "url", "events"],
        by_hand: &[],
        docs: &[("secret", "The signing secret (a :class:`Secret`; only in the answer to ``create``).")],
        bulk: None,
        extra_stubs: &[],
    },
    PyModel {
        model: "DeletedWebhook",
        doc: "The answer to deleting a webhook registration.",
        repr: &["webhook_id", "deleted"],
        by_hand: &[],
        docs: &[],
        bulk: None,
        extra_stubs: &[],
    },
    PyModel {
        model: "WebhookEvent",
        doc: "A verified webhook delivery: the event envelope.",
        repr: &["id", "event_type", "instance_id"],
        by_hand: &[],
        docs: &[("event_type", "What happened (wire ``type``): ``scan.completed``, ``user.created``, ...")],
        bulk: None,
        extra_stubs: &[],
    },
];

/// One method of a client namespace: the sync method and its `_<name>_async` twin in the stubs,
/// and the coroutine of the async client's namespace that awaits the twin.
pub(crate) struct Method {
    /// The native class (`Instances`, `Users`, `Webhooks`, `InstanceClient`).
    pub(crate) class: &'static str,
    /// The method name.
    pub(crate) name: &'static str,
    /// The Python parameters after `self`, as written in a signature (`*` for keyword-only).
    pub(crate) params: &'static str,
    /// The Python return type of the sync method.
    pub(crate) returns: &'static str,
    /// The async method's docstring.
    pub(crate) doc: &'static str,
}

/// The namespaces, in the order of the stubs; each has an `Async<class>` wrapper in `_async.py`.
pub(crate) const NAMESPACES: &[&str] = &["Instances", "Users", "Webhooks", "InstanceClient"];

const INSTANCE_CREATE: &str = "*, instance_type: str, parent_instance_id: str, name: str, short_name: str, \
    country: str, email: str, is_consulting: bool = False, mfa_type: int | str | None = None, \
    tenant_id: str | None = None, state: str | None = None, city: str | None = None, postal: str | None = None, \
    street: str | None = None";

/// The method table of the client's namespaces (adding an endpoint to Python adds a row here,
/// next to its `#[pymethods]` pair in `client.rs`).
pub(crate) const METHODS: &[Method] = &[
    Method {
        class: "Instances",
        name: "list",
        params: "",
        returns: "list[Instance]",
        doc: "Every organization and instance of the partner.",
    },
    Method {
        class: "Instances",
        name: "get",
        params: "instance_id: str",
        returns: "Instance",
        doc: "One organization or instance; ``NotFoundError`` if there is none.",
    },
    Method {
        class: "Instances",
        name: "create",
        params: INSTANCE_CREATE,
        returns: "CreatedInstance",
        doc: "Creates an organization or instance; never retried once sent (see the sync client).",
    },
    Method {
        class: "Instances",
        name: "convert",
        params: "instance_id: str",
        returns: "ConvertedInstance",
        doc: "Converts a consulting instance into a managed one (once).",
    },
    Method {
        class: "Instances",
        name: "suspend",
        params: "instance_id: str",
        returns: "InstanceStatusChange",
        doc: "Suspends an instance.",
    },
    Method {
        class: "Instances",
        name: "reactivate",
        params: "instance_id: str",
        returns: "InstanceStatusChange",
        doc: "Reactivates a suspended instance.",
    },
    Method {
        class: "Instances",
        name: "set_mfa",
        params: "instance_id: str, mfa_type: int | str",
        returns: "MfaChange",
        doc: "Sets an organization's MFA method: 0 (none), 1 (email) or 2 (authenticator).",
    },
    Method {
        class: "Instances",
        name: "authenticate",
        params: "instance_id: str | None = None",
        returns: "InstanceLogin",
        doc: "Authenticates the current token for reporting on one instance, or on all of them.",
    },
    Method {
        class: "Instances",
        name: "wait_until_active",
        params: "instance_id: str, timeout: float | None = None",
        returns: "Instance",
        doc: "Polls the instance until it is active (``TimeoutError`` after ``timeout`` seconds, 300 by default).",
    },
    Method { class: "Users", name: "list", params: "", returns: "list[User]", doc: "Every user." },
    Method {
        class: "Users",
        name: "get",
        params: "user_ref: str",
        returns: "User",
        doc: "One user, by id or username; ``NotFoundError`` if there is none.",
    },
    Method {
        class: "Users",
        name: "create",
        params: "*, instance_id: str, username: str, first_name: str, last_name: str",
        returns: "User",
        doc: "Creates a user under an organization; never retried once sent.",
    },
    Method {
        class: "Users",
        name: "disable",
        params: "user_ref: str",
        returns: "User",
        doc: "Disables a user, by id or username.",
    },
    Method { class: "Webhooks", name: "list", params: "", returns: "list[Webhook]", doc: "Every registration." },
    Method {
        class: "Webhooks",
        name: "create",
        params: "url: str, events: Sequence[str] | str",
        returns: "Webhook",
        doc: "Registers ``url`` for ``events``; the answer's ``secret`` is shown only here.",
    },
    Method {
        class: "Webhooks",
        name: "delete",
        params: "webhook_id: str",
        returns: "DeletedWebhook",
        doc: "Deletes a registration.",
    },
    Method {
        class: "InstanceClient",
        name: "vulnerability_scans",
        params: "",
        returns: "VulnerabilityScans",
        doc: "The vulnerability scan summaries.",
    },
    Method {
        class: "InstanceClient",
        name: "vulnerability_scan",
        params: "scan_id: str",
        returns: "ScanDetail",
        doc: "One scan's detail (parsed in Rust with the GIL released).",
    },
    Method {
        class: "InstanceClient",
        name: "data_scans",
        params: "",
        returns: "DataScans",
        doc: "The data scan summaries.",
    },
    Method {
        class: "InstanceClient",
        name: "baseline_scans",
        params: "",
        returns: "BaselineScans",
        doc: "The secure baseline scan summaries.",
    },
    Method {
        class: "InstanceClient",
        name: "dashboard_overall",
        params: "",
        returns: "OverallDashboard",
        doc: "Current and previous grades of every area.",
    },
    Method {
        class: "InstanceClient",
        name: "dashboard_data",
        params: "",
        returns: "DataDashboard",
        doc: "The data dashboard.",
    },
    Method {
        class: "InstanceClient",
        name: "dashboard_baseline",
        params: "",
        returns: "BaselineDashboard",
        doc: "The secure baseline dashboard.",
    },
    Method {
        class: "InstanceClient",
        name: "dashboard_vulnerability",
        params: "",
        returns: "VulnerabilityDashboard",
        doc: "The vulnerability dashboard.",
    },
    Method {
        class: "InstanceClient",
        name: "cves",
        params: "cve_id: str | None = None",
        returns: "Cves",
        doc: "Every CVE found on the instance, or only ``cve_id``.",
    },
    Method {
        class: "InstanceClient",
        name: "assets",
        params: "kind: Literal[\"internal\", \"external\"]",
        returns: "list[Asset]",
        doc: "The ``internal`` or ``external`` assets.",
    },
    Method {
        class: "InstanceClient",
        name: "authenticated_asset",
        params: "asset_id: str",
        returns: "list[Asset]",
        doc: "One internal asset by id (an empty list if unknown).",
    },
    Method {
        class: "InstanceClient",
        name: "ip_asset",
        params: "asset_ip: str",
        returns: "list[Asset]",
        doc: "One external IP asset by address (an empty list if unknown).",
    },
];
