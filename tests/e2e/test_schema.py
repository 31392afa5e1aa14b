"""config/rc-watchdog.schema.json, the JSON Schema editors validate configs
with (yaml-language-server), against the loader (check-config) and
docs/configuration.md, with Debian's python3-jsonschema (Draft 7):

- every example and test config that check-config accepts validates;
- structurally broken configs (an unknown key in every mapping, a value of the
  wrong type for every key, each required key missing) are rejected by the
  schema, and by check-config too;
- the schema's keys are the keys of docs/configuration.md.
"""
import copy
import glob
import json
import os
import re
import subprocess
import tempfile
import unittest

from rcw_e2e import BINARY, SOURCE_DIR, main

try:
    import jsonschema
    import yaml
except ImportError as e:  # scripts/setup.sh installs python3-jsonschema and python3-yaml
    jsonschema = yaml = None
    MISSING = str(e)

SCHEMA = os.path.join(SOURCE_DIR, "config", "rc-watchdog.schema.json")
EXAMPLE = os.path.join(SOURCE_DIR, "config", "example.yaml")
PROBE = "zzzqqq"
# Broken test configs whose fault is structural: the schema rejects them too.
# (Not dry-run-yes: PyYAML reads YAML 1.1, where `yes` is a boolean; editors
# read YAML 1.2, where it is the string the schema refuses.)
STRUCTURAL = [
    "unknown-key-typo", "limit-outside-limits", "itwins-scalar", "job-type-scalar",
    "job-type-typo", "base-url-missing", "budget-window-missing", "policy-without-limits",
    "policy-empty-limits", "dry-run-quoted", "budget-count-running-number",
    "budget-group-by-unknown", "budget-window-unknown", "log-level-unknown",
    "policy-action-typo", "page-size-too-big", "inline-secret", "root-is-a-list",
    "estimates-unknown-type", "duration-words", "itwin-not-a-guid", "match-itwins-empty",
    "warn-at-one", "cancel-fraction-zero", "policy-name-with-space", "budget-limit-zero",
]


def load_yaml(path):
    with open(path) as f:
        return yaml.safe_load(f)


@unittest.skipIf(jsonschema is None, "python3-jsonschema or python3-yaml missing")
class Schema(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(SCHEMA) as f:
            cls.schema = json.load(f)
        jsonschema.Draft7Validator.check_schema(cls.schema)
        cls.validator = jsonschema.Draft7Validator(cls.schema)
        cls.dir = tempfile.TemporaryDirectory(prefix="rcw-schema-")
        cls.env = dict(os.environ, RC_WATCHDOG_CLIENT_SECRET="s3cret", TZ="UTC")
        cls.env.pop("CREDENTIALS_DIRECTORY", None)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def valid(self, doc):
        return [e.message for e in self.validator.iter_errors(doc)]

    def check_config(self, path):
        proc = subprocess.run([BINARY, "check-config", "-c", path], capture_output=True,
                              text=True, timeout=60, env=self.env)
        return proc.returncode, proc.stdout + proc.stderr

    def check_doc(self, doc):
        path = os.path.join(self.dir.name, "config.yaml")
        with open(path, "w") as f:
            json.dump(doc, f)
        return self.check_config(path)[0]

    def resolve(self, node):
        while "$ref" in node:
            ref = node["$ref"]
            target = self.schema
            for part in ref.lstrip("#/").split("/"):
                target = target[part]
            node = dict(target, **{k: v for k, v in node.items() if k != "$ref"})
        return node

    # ---- the modeline -------------------------------------------------------
    def test_example_names_the_schema_in_its_modeline(self):
        with open(EXAMPLE) as f:
            first = f.readline().strip()
        m = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        self.assertIsNotNone(m, first)
        self.assertTrue(os.path.isfile(os.path.join(os.path.dirname(EXAMPLE), m.group(1))))

    # ---- accepted configs validate ------------------------------------------
    def test_every_config_check_config_accepts_validates(self):
        files = [EXAMPLE] + sorted(glob.glob(os.path.join(SOURCE_DIR, "config", "examples", "*.yaml")))
        files += sorted(glob.glob(os.path.join(SOURCE_DIR, "tests", "data", "**", "*.yaml"),
                                  recursive=True))
        accepted = 0
        for path in files:
            status, _ = self.check_config(path)
            if status != 0:
                continue
            accepted += 1
            try:
                doc = load_yaml(path)
            except yaml.YAMLError:
                continue  # accepted by yaml-cpp, not PyYAML: nothing to validate
            self.assertEqual(self.valid(doc), [], os.path.relpath(path, SOURCE_DIR))
        self.assertGreaterEqual(accepted, 10)

    # ---- broken configs are rejected ----------------------------------------
    def test_broken_test_configs_are_rejected(self):
        for name in STRUCTURAL:
            path = os.path.join(SOURCE_DIR, "tests", "data", "config", "bad", name + ".yaml")
            self.assertNotEqual(self.check_config(path)[0], 0, name)
            self.assertNotEqual(self.valid(load_yaml(path)), [], name)

    def mutations(self, doc, schema, path):
        """(description, broken document) for every mapping, key and required key."""
        schema = self.resolve(schema)
        node = doc
        for step in path:
            node = node[step]
        props = schema.get("properties")
        if props is not None and isinstance(node, dict):
            broken = copy.deepcopy(self.base)
            self.at(broken, path)[PROBE] = 1
            yield "unknown key in %s" % (path,), broken
            for key in schema.get("required", []):
                broken = copy.deepcopy(self.base)
                del self.at(broken, path)[key]
                yield "missing %s" % (path + [key],), broken
            for key, sub in props.items():
                if key in node:
                    yield from self.mutations(doc, sub, path + [key])
            return
        if schema.get("type") == "array" and isinstance(node, list) and node:
            items = self.resolve(schema.get("items", {}))
            if "properties" in items:
                yield from self.mutations(doc, items, path + [0])
                return
        broken = copy.deepcopy(self.base)
        wrong = [1] if schema.get("type") == "object" else {"x": 1}
        self.set_at(broken, path, wrong)
        yield "wrong type at %s" % (path,), broken

    @staticmethod
    def at(doc, path):
        for step in path:
            doc = doc[step]
        return doc

    def set_at(self, doc, path, value):
        self.at(doc, path[:-1])[path[-1]] = value

    def test_structural_mutations_of_the_example_are_rejected_by_both(self):
        base = load_yaml(EXAMPLE)
        type(self).base = base
        self.assertEqual(self.check_doc(base), 0)
        count = 0
        for what, broken in self.mutations(base, self.schema, []):
            count += 1
            with self.subTest(what):
                self.assertNotEqual(self.valid(broken), [], "the schema accepts: " + what)
                self.assertNotEqual(self.check_doc(broken), 0, "check-config accepts: " + what)
        self.assertGreater(count, 60)

    def test_a_notify_section_validates_and_is_checked(self):
        doc = load_yaml(EXAMPLE)
        doc["notify"] = {
            "alertmanager": {"urls": ["http://127.0.0.1:9093"], "timeout": "10s",
                             "resend_interval": "1m"},
            "external_labels": {"env": "prod"},
            "owners": [{"match": {"users": ["3a8670f9-b69f-4a60-b958-f103d580755f"]},
                        "labels": {"team": "survey", "owner_email": "ana@example.com"}}],
        }
        self.assertEqual(self.valid(doc), [])
        doc["notify"]["owners"][0]["lables"] = {}
        self.assertNotEqual(self.valid(doc), [])

    # ---- schema keys == documented keys -------------------------------------
    def schema_keys(self, schema, prefix=""):
        schema = self.resolve(schema)
        keys = set()
        if schema.get("type") == "array":
            return self.schema_keys(schema.get("items", {}), prefix + "[]")
        for key, sub in schema.get("properties", {}).items():
            path = prefix + ("." if prefix else "") + key
            keys.add(path)
            keys |= self.schema_keys(sub, path)
        return keys

    def test_schema_keys_are_the_documented_keys(self):
        with open(os.path.join(SOURCE_DIR, "docs", "configuration.md")) as f:
            text = f.read()
        rows = set(re.findall(r"^\| `([a-z_][A-Za-z0-9_.\[\]]*)` \|", text, re.M))
        sections = set(re.findall(r"^## `([a-z_]+)`", text, re.M))
        keys = self.schema_keys(self.schema)
        top = {k for k in keys if "." not in k and "[" not in k}
        self.assertEqual(sorted(top ^ sections), [], "top-level sections differ")
        self.assertEqual(sorted((keys - top) ^ rows), [], "keys differ (schema ^ docs)")


if __name__ == "__main__":
    main()
