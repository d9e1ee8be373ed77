"""Where the API stands among the features (the import graph of tests/test_structure.py).

casemgr/api/ is plumbing under every feature's API: a feature serves its own
resources from its API modules (``api``, with ``schemas`` and ``api_inputs``
beside it; the cases' bulk actions in ``bulk_api``), which alone of the
feature may use the plumbing; the plumbing imports no feature, except
``openapi`` that assembles the document from the features' parts (and
create_app, which registers them).
"""

from __future__ import annotations

from tests.test_structure import GRAPH, MODULES

API_MODULE_NAMES = {"api", "api_inputs", "bulk_api", "schemas"}
FEATURES = {
    name
    for name, module in MODULES.items()
    if module.is_package and name.count(".") == 1 and name != "casemgr.api"
}
# The token check asks the accounts (casemgr.auth) whose token it is.
PLUMBING_MAY_IMPORT = {"casemgr.auth"}


def feature_of(name: str) -> str | None:
    return next((f for f in FEATURES if name == f or name.startswith(f + ".")), None)


def is_plumbing(name: str) -> bool:
    return name == "casemgr.api" or name.startswith("casemgr.api.")


def is_feature_api(name: str) -> bool:
    return feature_of(name) is not None and name.rpartition(".")[2] in API_MODULE_NAMES


def test_only_a_features_api_modules_use_the_plumbing():
    users = {
        name
        for name, targets in GRAPH.items()
        if not is_plumbing(name) and name != "casemgr" and any(map(is_plumbing, targets))
    }
    assert users, "the walker found no user of casemgr.api"
    assert {name for name in users if not is_feature_api(name)} == set()


def test_the_plumbing_imports_no_feature_but_in_the_document():
    offenders = {
        (name, target)
        for name, targets in GRAPH.items()
        if is_plumbing(name) and name != "casemgr.api.openapi"
        for target in targets
        if feature_of(target) not in (None, *PLUMBING_MAY_IMPORT)
    }
    assert offenders == set()


def test_the_document_assembles_every_feature_api_that_documents_itself():
    assert {"casemgr.cases.api", "casemgr.directory.api", "casemgr.notices.api"} <= GRAPH[
        "casemgr.api.openapi"
    ]


def test_nothing_of_a_feature_but_its_api_imports_its_api_modules():
    offenders = {
        (name, target)
        for name, targets in GRAPH.items()
        if not is_feature_api(name) and name not in {"casemgr", "casemgr.api.openapi"}
        for target in targets
        if is_feature_api(target)
    }
    assert offenders == set()
