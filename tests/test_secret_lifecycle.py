"""offstate_secret end to end: real Terraform, the built provider, moto as Secrets Manager.

Every test plants canaries (random values fed through an ephemeral variable) and the `ws`
fixture searches every artifact for them when the test ends.
"""

from __future__ import annotations

import hmac
import json
import re

import pytest

from harness import canary as canaries
from harness import hcl
from harness import store

pytestmark = [pytest.mark.e2e, pytest.mark.lifecycle]

ADDR = "offstate_secret.s"


def only_changed_keys(before: dict, after: dict) -> set[str]:
    keys = set(before) | set(after)
    return {k for k in keys if before.get(k) != after.get(k)}


def test_create_writes_value_and_plans_clean(ws, sm):
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, description="created by e2e", value_wo_version="1")))

    plan = ws.plan()
    assert plan.rc == 2 and plan.actions(ADDR) == ["create"], plan.summary()
    assert plan.change(ADDR)["after"].get("value_wo") is None
    ws.apply(plan)

    a = ws.attributes(ADDR)
    assert a["name"] == name
    assert a["value_wo"] is None
    assert a["value_wo_version"] == "1"
    assert a["description"] == "created by e2e"
    assert a["recovery_window_in_days"] == 30  # the default
    assert a["arn"].startswith("arn:aws:secretsmanager:us-east-1:") and a["id"] == a["arn"]
    assert a["version_id"] == store.stages(sm, name)["AWSCURRENT"]
    store.assert_value(sm, name, c)

    ws.assert_no_changes("right after create")
    ws.sweep()


def test_terraform_asks_for_the_schema_once_per_command(ws, sm):
    """The provider announces GetProviderSchemaOptional, as terraform-plugin-framework does:
    Terraform starts it several times per command but asks only the first process for the
    schema and answers every later start from its cache."""
    ws.set_var("secret", ws.canary())
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=ws.name(), value_wo_version="1")))
    ws.validate()
    ws.apply(ws.plan())

    logs = sorted(ws.artifacts.glob("*.tflog"))
    counted = {}
    for log in logs:
        text = log.read_text(errors="replace")
        starts = len(re.findall(r"plugin started: path=\S*terraform-provider-offstate", text))
        served = text.count("tf_rpc=/tfplugin6.Provider/GetProviderSchema")
        if starts:
            counted[log.stem] = (starts, served)
    assert any(starts >= 2 for starts, _ in counted.values()), counted  # else this proves nothing
    for stem, (starts, served) in counted.items():
        assert served == 1, f"{stem}: {starts} provider starts, {served} GetProviderSchema calls"
    ws.sweep()


def test_json_document_value_with_characters_that_need_escaping(ws, sm):
    """The quickstart's shape: value_wo = jsonencode({...}) around the ephemeral variable."""
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    doc = 'jsonencode({ username = "app", password = var.secret, note = "q\\" <t> & \\\\ \\n" })'
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_var=None, value_wo_version=1, raw={"value_wo": doc})))
    ws.apply()
    stored = store.read_value(sm, name)
    parsed = json.loads(stored)
    assert parsed["username"] == "app" and parsed["note"] == 'q" <t> & \\ \n'
    ws.watch(canaries.wrap(stored))  # the whole document is searched for too, in all its encodings
    if not hmac.compare_digest(parsed["password"].encode(), c.reveal().encode()):
        pytest.fail("the password inside the stored document is not the canary (values not shown)", pytrace=False)
    ws.assert_no_changes()
    ws.sweep()


def test_name_prefix_generates_a_name(ws, sm):
    c = ws.canary()
    ws.set_var("secret", c)
    prefix = ws.name("p-")
    ws.write(hcl.config(ws.endpoint, hcl.secret(name_prefix=prefix, value_wo_version="1", recovery_window_in_days=0)))
    ws.apply()
    a = ws.attributes(ADDR)
    assert a["name"].startswith(prefix) and len(a["name"]) > len(prefix)
    assert a["name_prefix"] == prefix
    store.assert_value(sm, a["name"], c)
    ws.assert_no_changes()
    ws.sweep()


def test_trigger_change_writes_a_new_version_in_place(ws, sm):
    c1, c2 = ws.canary("v1"), ws.canary("v2")
    name = ws.name()
    ws.set_var("secret", c1)
    # a number converts to the string attribute
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version=1)))
    ws.apply()
    a1 = ws.attributes(ADDR)
    assert a1["value_wo_version"] == "1"

    ws.set_var("secret", c2)
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="2")))
    plan = ws.plan()
    assert plan.actions(ADDR) == ["update"], plan.summary()
    ch = plan.change(ADDR)
    assert ch["after"].get("value_wo") is None
    assert ch["after"]["arn"] == a1["arn"]
    ws.apply(plan)

    a2 = ws.attributes(ADDR)
    assert a2["arn"] == a1["arn"], "a new value must not replace the secret"
    assert a2["value_wo_version"] == "2"
    assert a2["version_id"] != a1["version_id"]
    st = store.stages(sm, name)
    assert st["AWSCURRENT"] == a2["version_id"]
    assert st["AWSPREVIOUS"] == a1["version_id"]
    store.assert_value(sm, name, c2, "AWSCURRENT")
    store.assert_value(sm, name, c1, "AWSPREVIOUS")

    ws.assert_no_changes("after the trigger change")
    ws.sweep()


def test_value_change_without_trigger_change_is_not_written(ws, sm):
    c1, c2 = ws.canary("v1"), ws.canary("v2")
    name = ws.name()
    ws.set_var("secret", c1)
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1")))
    ws.apply()
    ws.set_var("secret", c2)
    ws.assert_no_changes("a write-only value is only written when value_wo_version changes")
    store.assert_value(sm, name, c1)
    ws.sweep()


def test_metadata_change_is_in_place(ws, sm):
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    prov = {"default_tags": {"team": "payments"}}
    ws.write(
        hcl.config(
            ws.endpoint,
            hcl.secret(name=name, description="one", tags={"env": "test"}, value_wo_version="1"),
            provider_attrs=prov,
        )
    )
    ws.apply()
    a1 = ws.attributes(ADDR)
    assert a1["tags"] == {"env": "test"}
    assert a1["tags_all"] == {"env": "test", "team": "payments"}
    assert store.tags(sm, name) == {"env": "test", "team": "payments"}

    ws.write(
        hcl.config(
            ws.endpoint,
            hcl.secret(name=name, description="two", tags={"owner": "ops"}, value_wo_version="1"),
            provider_attrs=prov,
        )
    )
    plan = ws.plan()
    assert plan.actions(ADDR) == ["update"], plan.summary()
    ws.apply(plan)

    a2 = ws.attributes(ADDR)
    assert a2["arn"] == a1["arn"] and a2["version_id"] == a1["version_id"]
    assert a2["description"] == "two"
    assert a2["tags_all"] == {"owner": "ops", "team": "payments"}
    d = sm.describe_secret(SecretId=name)
    assert d["Description"] == "two"
    assert store.tags(sm, name) == {"owner": "ops", "team": "payments"}, "a removed tag must be untagged"
    assert list(store.stages(sm, name)) == ["AWSCURRENT"], "metadata changes write no new value"
    store.assert_value(sm, name, c)

    ws.assert_no_changes("after the metadata change")
    ws.sweep()


def test_a_tag_set_to_null_is_not_set_and_plans_clean(ws, sm):
    """`tags = { owner = var.owner }` with no owner given: a null tag value sets no tag, as in
    hashicorp/aws (null values are placeholders for tags not configured), so the default tag
    of that key applies and the next plan is empty. A refresh used to take the remote default
    tag into `tags` under the null key: every plan showed `tags` changing back, forever."""
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()

    def write(defaults: dict) -> None:
        body = hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0, raw={"tags": '{ team = null, env = "test", owner = null }'})
        ws.write(hcl.config(ws.endpoint, body, provider_attrs={"default_tags": defaults}))

    write({"team": "payments"})
    ws.apply()
    assert store.tags(sm, name) == {"team": "payments", "env": "test"}
    a = ws.attributes(ADDR)
    assert a["tags_all"] == {"team": "payments", "env": "test"}
    assert a["tags"] == {"team": None, "env": "test", "owner": None}
    ws.assert_no_changes("null tag values after create")

    # A tag set outside Terraform under a key the configuration leaves null is drift of
    # tags_all, and the apply removes it; the default tag's new value is applied.
    sm.tag_resource(SecretId=name, Tags=[{"Key": "owner", "Value": "someone"}])
    write({"team": "billing"})
    plan = ws.plan()
    assert plan.actions(ADDR) == ["update"], plan.summary()
    ws.apply(plan)
    assert store.tags(sm, name) == {"team": "billing", "env": "test"}
    ws.assert_no_changes("null tag values after an update")
    store.assert_value(sm, name, c)
    ws.sweep()


def test_the_aws_managed_key_by_its_alias_plans_clean(ws, sm):
    """`kms_key_id = "alias/aws/secretsmanager"` (hashicorp/aws configurations often spell the
    default key so) on a secret that reports no key of its own, then the argument removed: no
    plan shows a change. Before, the alias was drift against the absent KmsKeyId on every plan
    (an UpdateSecret on every apply), and unsetting a key read the alias back the same way."""
    ws.set_var("secret", ws.canary())
    name = ws.name()
    for kms in ("alias/aws/secretsmanager", None):
        ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, kms_key_id=kms, value_wo_version="1")))
        ws.apply()
        ws.assert_no_changes(f"kms_key_id = {kms!r}")
    assert "KmsKeyId" not in sm.describe_secret(SecretId=name)
    ws.sweep()


def test_rename_replaces(ws, sm):
    c = ws.canary()
    ws.set_var("secret", c)
    old, new = ws.name("old"), ws.name("new")
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=old, value_wo_version="1", recovery_window_in_days=0)))
    ws.apply()
    a1 = ws.attributes(ADDR)

    ws.write(hcl.config(ws.endpoint, hcl.secret(name=new, value_wo_version="1", recovery_window_in_days=0)))
    plan = ws.plan()
    assert sorted(plan.actions(ADDR)) == ["create", "delete"], plan.summary()
    ws.apply(plan)

    a2 = ws.attributes(ADDR)
    assert a2["name"] == new and a2["arn"] != a1["arn"]
    assert store.status(sm, old) == "gone"
    store.assert_value(sm, new, c)  # the replacement got the value from configuration
    ws.assert_no_changes("after the rename")
    ws.sweep()


@pytest.mark.parametrize("how", ["cli", "block"])
@pytest.mark.parametrize("by", ["name", "arn"])
def test_import_reads_no_value_then_plans_clean(ws, sm, how, by):
    outside = ws.canary("outside")  # exists only in Secrets Manager: the provider must never read it
    name = ws.name()
    arn = sm.create_secret(
        Name=name, SecretString=outside.reveal(), Description="made outside", Tags=[{"Key": "env", "Value": "test"}]
    )["ARN"]
    ident = name if by == "name" else arn
    ws.set_var("secret", ws.canary("unused"))
    managed = hcl.secret(name=name, value_var=None, description="made outside", tags={"env": "test"})
    import_block = f'import {{\n  to = {ADDR}\n  id = "{ident}"\n}}\n'

    if how == "cli":
        ws.write(hcl.config(ws.endpoint, managed))
        ws.tf("import", "-input=false", ADDR, ident)
    else:
        ws.write(hcl.config(ws.endpoint, managed, import_block))
        plan = ws.plan()
        ch = plan.change(ADDR)
        assert ch.get("importing"), plan.summary()
        assert plan.actions(ADDR) == ["no-op"], plan.summary()
        ws.apply(plan)

    a = ws.attributes(ADDR)
    assert a["arn"] == arn and a["id"] == arn and a["name"] == name
    assert a["value_wo"] is None
    assert a["version_id"] == store.stages(sm, name)["AWSCURRENT"]
    ws.assert_no_changes("after import")

    # Taking over the value: value_wo + value_wo_version writes a new version in place.
    mine = ws.canary("mine")
    ws.set_var("secret", mine)
    managed = hcl.secret(name=name, description="made outside", tags={"env": "test"}, value_wo_version="1")
    ws.write(hcl.config(ws.endpoint, managed, import_block if how == "block" else ""))
    plan = ws.plan()
    assert plan.actions(ADDR) == ["update"], plan.summary()
    ws.apply(plan)
    store.assert_value(sm, name, mine)
    store.assert_value(sm, name, outside, "AWSPREVIOUS")
    assert ws.attributes(ADDR)["arn"] == arn
    ws.assert_no_changes("after taking over the value")
    ws.sweep()


def test_import_by_the_version_import_id_of_hashicorp_aws_says_what_to_import_by(ws, sm):
    """`SECRET_ID|VERSION_ID` is how hashicorp/aws imports an aws_secretsmanager_secret_version,
    the resource an offstate_secret replaces: the import error says to import by the part before
    the `|` (it used to say that no such secret exists in the region)."""
    name = ws.name()
    outside = ws.canary("outside")
    arn = sm.create_secret(Name=name, SecretString=outside.reveal())["ARN"]
    version = store.stages(sm, name)["AWSCURRENT"]
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_var=None), variables=()))
    res = ws.tf("import", "-input=false", ADDR, f"{arn}|{version}", expect=1)
    text = " ".join(res.output.split())
    assert "Invalid import id" in text and "aws_secretsmanager_secret_version" in text, text[-600:]
    assert "the part before the" in text and "non-existent" not in text, text[-600:]
    assert ws.attributes(ADDR) is None
    ws.tf("import", "-input=false", ADDR, arn)
    assert ws.attributes(ADDR)["arn"] == arn
    ws.assert_no_changes("after the import by ARN")
    ws.sweep()
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)

def test_value_changed_outside_is_drift_and_not_overwritten(ws, sm):
    c1 = ws.canary("v1")
    name = ws.name()
    ws.set_var("secret", c1)
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1")))
    ws.apply()
    a1 = ws.attributes(ADDR)

    outside = ws.canary("outside")
    sm.put_secret_value(SecretId=name, SecretString=outside.reveal())
    current = store.stages(sm, name)["AWSCURRENT"]
    assert current != a1["version_id"]

    refresh = ws.plan("-refresh-only")
    assert refresh.rc == 2, "a refresh-only plan must see the drift"
    drift = refresh.drift(ADDR)
    assert drift is not None, refresh.summary()
    assert drift["before"]["version_id"] == a1["version_id"]
    assert drift["after"]["version_id"] == current
    assert only_changed_keys(drift["before"], drift["after"]) == {"version_id"}

    plan = ws.plan()
    assert plan.actions(ADDR) == ["no-op"], "a value changed outside must not be overwritten: " + plan.summary()
    ws.apply(plan)
    store.assert_value(sm, name, outside)
    assert ws.attributes(ADDR)["version_id"] == current
    ws.assert_no_changes("after accepting the drift")

    # Changing the trigger writes the configured value again.
    c3 = ws.canary("v3")
    ws.set_var("secret", c3)
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="2")))
    plan = ws.plan()
    assert plan.actions(ADDR) == ["update"], plan.summary()
    ws.apply(plan)
    store.assert_value(sm, name, c3)
    store.assert_value(sm, name, outside, "AWSPREVIOUS")
    ws.sweep()


def test_deleted_outside_disappears_and_plan_creates(ws, sm):
    c = ws.canary()
    name = ws.name()
    ws.set_var("secret", c)
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)))
    ws.apply()
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)

    plan = ws.plan()
    assert plan.actions(ADDR) == ["create"], plan.summary()
    ws.apply(plan)
    store.assert_value(sm, name, c)
    ws.assert_no_changes("after re-creating")
    ws.sweep()


def test_scheduled_for_deletion_outside_disappears_and_recreate_is_clear(ws, sm):
    c = ws.canary()
    name = ws.name()
    ws.set_var("secret", c)
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1")))
    ws.apply()
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)

    # The secret leaves the state, and the name is still taken until the window ends: the plan
    # of its create says so (DescribeSecret at plan), naming the secret and what to do, and
    # nothing is created or changed.
    res = ws.tf("plan", "-input=false", expect=1)
    text = " ".join(res.output.replace("│", " ").split()).lower()
    assert "scheduled for deletion" in text, ws.describe_failure(res, "the error must say why")
    assert name.lower() in text, ws.describe_failure(res, "the error must name the secret")
    assert "restore-secret" in text, ws.describe_failure(res, "the error must say what to do")
    assert store.status(sm, name) == "scheduled"
    ws.sweep()


@pytest.mark.parametrize("window", [0, 7])
def test_destroy_honours_recovery_window(ws, sm, window):
    c = ws.canary()
    name = ws.name()
    ws.set_var("secret", c)
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=window)))
    ws.apply()
    assert ws.attributes(ADDR)["recovery_window_in_days"] == window
    ws.destroy()
    assert ws.attributes(ADDR) is None
    assert store.status(sm, name) == ("gone" if window == 0 else "scheduled")
    ws.sweep()
