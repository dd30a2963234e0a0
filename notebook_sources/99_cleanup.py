# %% [markdown]
# # 99 · Cleanup: leave nothing behind
#
# The workshop created an endpoint, a function, tables, log groups, alarms, a dashboard, a topic, a
# queue, a bucket and roles, all named after your prefix and tagged `workshop-kit=ml-pipeline-ch8`.
# This notebook lists them with what they cost per hour, deletes them in dependency order (what uses
# a resource goes before it), and then lists again to prove nothing is left.
#
# It only ever deletes what carries the kit's tag **and** your prefix **and** was created by you (the
# AWS identity you work as). The dashboard, which cannot be tagged, goes by its exact name. A resource
# named like yours but without the kit's tag, or created by someone else under the same prefix, is
# shown and left alone: your instructor's sweep at the end of the workshop removes those.
#
# **You will learn** how to find everything a workshop created (by its tags and names), what it costs
# per hour while it exists, and in which order AWS lets you delete it.
#
# **How long:** about 5 minutes. The cells run in under a minute on the local cloud and in a minute or
# two on AWS, where the endpoint takes the longest to delete.
#
# **Contents:** [Parameters](#Parameters) ·
# [1 · What exists, and what it costs](#Step-1-·-What-exists,-and-what-it-costs) ·
# [2 · Delete, in dependency order](#Step-2-·-Delete,-in-dependency-order) ·
# [Check](#Check:-nothing-of-the-kit-is-left) · [Recap](#Recap)

# %% [markdown]
# ## Parameters
#
# `DELETE = None` deletes in local mode and only lists in AWS mode: in your AWS account, set
# `DELETE = True` once you have read the list. `PREFIX = None` means your own prefix.

# %% tags=["parameters"]
DELETE = None
PREFIX = None

# %%
# After the parameters cell, as papermill expects.
from helpers import cleanup, inventory, session

info = session.prepare(show=True)
prefix = PREFIX or session.settings().prefix

# %% [markdown]
# ## Step 1 · What exists, and what it costs
#
# One row per resource. `USD/hour` is an estimate from AWS's us-east-1 list prices (their date is
# printed with the total): a serverless endpoint and on-demand tables cost nothing while idle; alarms
# and the dashboard cost a little every hour they exist.

# %%
before = inventory.collect(prefix)
inventory.show(before)

# %% [markdown]
# ## Step 2 · Delete, in dependency order
#
# Alarms and the dashboard first (they watch the rest), then metric filters and log groups, the
# function, the topic's subscriptions and the topic, the queue, the tables, the endpoint, its
# configuration and model, the bucket's objects (every version) and the bucket, and last the roles
# (policies detached first). Each deletion is waited for; what is already gone is skipped.

# %%
report = cleanup.cleanup(prefix, delete=DELETE)
for resource in report.deleted:
    print(f"deleted {resource.kind:<20} {resource.name}")
print(report)

# %% [markdown]
# ## Check: nothing of the kit is left
#
# The inventory is taken again from scratch, service by service.

# %%
after = [r for r in inventory.collect(prefix) if r.owned]
inventory.show(after)
if report.delete:
    assert after == [], f"still there: {[(r.kind, r.name) for r in after]}"
    print(f"✔ Nothing of the kit is left for prefix {prefix}.")
else:
    print(
        "Listed only, nothing deleted: set DELETE = True and run the notebook again "
        f"to delete these {len(after)}."
    )

# %% [markdown]
# ## Recap
#
# Your prefix has no resources left: nothing keeps costing. Lookalikes without the kit's tag (if any
# were listed) are still there, on purpose. Instructors can sweep every attendee at once with
# `python -m helpers cleanup --all-prefixes --older-than 8h --yes`.
#
# **In the AWS console:** Resource Groups & Tag Editor → Tag Editor, tag `workshop-kit`, lists anything tagged by the kit.

# %%
print(
    session.console_url("resource-groups/tag-editor/find-resources") or "Local mode has no console."
)
