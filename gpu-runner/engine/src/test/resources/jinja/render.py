"""Renders chat templates the way transformers does (its _compile_jinja_template settings), with
Debian's python3-jinja2: the independent renderer the engine's Jinja is tested against.

    python3 render.py CASES.json -> [{"out": text} | {"error": message}, ...]
"""
import json
import sys

from jinja2 import nodes
from jinja2.exceptions import TemplateError
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                      sort_keys=sort_keys)


class Generation(Extension):
    """transformers' {% generation %} block (its AssistantTracker), rendering the body as is."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_body"), [], [], body).set_lineno(lineno)

    def _body(self, caller):
        return caller()


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                    extensions=["jinja2.ext.loopcontrols", Generation])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception

out = []
for case in json.load(open(sys.argv[1])):
    try:
        out.append({"out": env.from_string(case["template"]).render(**case["context"])})
    except Exception as e:  # noqa: BLE001 - every failure is an answer here
        out.append({"error": str(e)})
json.dump(out, sys.stdout)
