"""Masking the secrets of a definition: what is hidden, what is kept, and the shapes YAML allows."""

import yaml

from lava_scheduler.jobs.masking import MASK, UNREADABLE, mask_definition

SECRET = "hunter2"


def test_a_definition_without_secrets_is_returned_as_is():
    text = "job_name: plain  # a comment\nvisibility: public\nactions: []\n"
    assert mask_definition(text) is text


def test_secrets_tokens_and_headers_are_masked_where_they_stand():
    text = f"""job_name: x   # kept
secrets:
  A: {SECRET}   # kept too
  B: |
    {SECRET}
    second line
  C: [{SECRET}, {SECRET}]
  D: {{nested: {SECRET}}}
  EMPTY:
notify:
  callback: {{url: "http://cb/{{ID}}", token: {SECRET}}}
actions:
- deploy:
    images:
      rootfs: {{url: "http://x", headers: {{Authorization: {SECRET}}}}}
- test:
    definitions:
    - {{from: git, repository: "http://g", path: p.yaml, name: n, headers: {{X-Token: {SECRET}}}}}
"""
    masked = mask_definition(text)
    assert SECRET not in masked
    assert "# kept" in masked and "# kept too" in masked
    data = yaml.safe_load(masked)
    assert data["secrets"] == {"A": MASK, "B": MASK, "C": [MASK, MASK], "D": {"nested": MASK}, "EMPTY": None}
    assert data["notify"]["callback"] == {"url": "http://cb/{ID}", "token": MASK}
    assert data["actions"][0]["deploy"]["images"]["rootfs"]["headers"] == {"Authorization": MASK}
    assert data["actions"][1]["test"]["definitions"][0]["headers"] == {"X-Token": MASK}
    assert data["job_name"] == "x"


def test_callbacks_list_is_masked():
    text = f"notify:\n  callbacks:\n  - url: http://a\n    token: {SECRET}\n  - url: http://b\n"
    data = yaml.safe_load(mask_definition(text))
    assert data["notify"]["callbacks"] == [{"url": "http://a", "token": MASK}, {"url": "http://b"}]


def test_anchors_and_merge_keys_fall_back_to_plain_yaml_without_the_secret():
    text = f"base: &cb {{url: http://a, token: {SECRET}}}\nnotify:\n  callback:\n    <<: *cb\n"
    masked = mask_definition(text)
    data = yaml.safe_load(masked)
    assert data["notify"]["callback"]["token"] == MASK
    # the anchor's own copy is not a notification: the submitter put it there in the clear
    assert data["base"]["token"] == SECRET


def test_a_secret_behind_an_alias_is_masked():
    text = f"value: &v {SECRET}\nsecrets: {{A: *v}}\n"
    assert yaml.safe_load(mask_definition(text))["secrets"] == {"A": MASK}


def test_unparseable_text_is_hidden_whole():
    assert mask_definition(f"secrets: {{A: {SECRET}\n") == UNREADABLE
