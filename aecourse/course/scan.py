""""Write it yourself": what a solution cell uses of `aecourse`, found statically.

A solution that calls the package's implementation of the thing it is asked
to write (`per_image_error = checks.reference_per_image_error`,
`linear.pca_reconstruct(...)`), or that reaches the package through dynamic
code (`eval`, `__import__`, `sys.modules`, ...) where a reader cannot see what
it calls, scores 0 for that exercise; its feedback names what it used.
"""

import ast

# What hides what a solution calls: dynamic code, imports by string, introspection.
DYNAMIC_NAMES = {"eval", "exec", "compile", "__import__", "globals", "locals", "vars", "__builtins__"}
DYNAMIC_ATTRIBUTES = {"__dict__", "__globals__", "__subclasses__", "__code__", "__builtins__", "modules"}
DYNAMIC_MODULES = {"importlib", "builtins", "gc", "inspect", "pickle", "marshal", "ctypes", "runpy"}


def setup_imports(setup_source):
    """The setup cell's top-level import statements (source), without those of `aecourse.checks`."""
    kept = []
    for node in ast.parse(setup_source).body:
        if isinstance(node, ast.Import):
            names = [alias for alias in node.names if not alias.name.startswith("aecourse.checks")]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            if (node.module or "").startswith("aecourse.checks") or (
                    node.module == "aecourse" and any(a.name == "checks" for a in node.names)):
                continue
            names = node.names
        else:
            continue
        if names:
            node.names = names
            kept.append(ast.unparse(node))
    return kept


def aecourse_names(setup_source):
    """The names the setup cell binds to `aecourse` objects, e.g. `{"linear": "aecourse.linear"}`."""
    bound = {}
    for node in ast.walk(ast.parse(setup_source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "aecourse":
                    bound[alias.asname or "aecourse"] = alias.name if alias.asname else "aecourse"
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "aecourse":
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return bound


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id] + parts[::-1]
    return None


def _local_names(function):
    """The names local to a function (or lambda): its arguments and what its body assigns, minus
    `global`/`nonlocal` ones (nested functions and classes are their own scopes)."""
    args = function.args
    names = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg] if a}
    declared = set()
    body = function.body if isinstance(function.body, list) else [function.body]
    pending = list(body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            declared.update(node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        if not isinstance(node, ast.Lambda):
            pending.extend(ast.iter_child_nodes(node))
    return names - declared


class _Scanner(ast.NodeVisitor):
    def __init__(self, bound, allowed):
        self.bound, self.allowed, self.found, self.scopes = bound, allowed, [], []

    def _use(self, node, parts):
        if parts[0] in self.bound and not any(parts[0] in scope for scope in self.scopes):
            name = ".".join([self.bound[parts[0]]] + parts[1:])
            if not self.allowed(name):
                self.found.append(f"{name} (line {node.lineno})")

    def _function(self, node):
        for child in node.args.defaults + [d for d in node.args.kw_defaults if d] + getattr(node, "decorator_list", []):
            self.visit(child)  # evaluated in the enclosing scope
        self.scopes.append(_local_names(node))
        for child in (node.body if isinstance(node.body, list) else [node.body]):
            self.visit(child)
        self.scopes.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Attribute(self, node):
        parts = _dotted(node)
        if parts:
            self._use(node, parts)
            return  # the chain is reported whole
        self.generic_visit(node)

    def visit_Name(self, node):
        if node.id in DYNAMIC_NAMES:
            self.found.append(f"{node.id}, which can hide what the code calls (line {node.lineno})")
        if not isinstance(node.ctx, ast.Store):
            self._use(node, [node.id])


def forbidden_uses(source, bound, allow=()):
    """What a solution's source uses of `aecourse` (or of dynamic code), one line per use.

    A name the setup cell binds to the package counts wherever it is not a
    local of the function it is used in (Python's scoping: a name assigned in
    a function is local to all of it; defaults are evaluated outside).

    Args:
        source: the solution cell's source.
        bound: the names the setup cell binds to `aecourse` objects (`aecourse_names`).
        allow: `aecourse` modules this exercise may use; `aecourse.checks` never is.

    Returns:
        A list of findings such as `"aecourse.linear.pca_reconstruct (line 3)"`; empty if none.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []  # it will fail to run, and score 0 for that

    def allowed(name):
        return not name.startswith("aecourse.checks") and any(
            name == module or name.startswith(module + ".") for module in allow)

    scanner = _Scanner(bound, allowed)
    scanner.visit(tree)
    found = scanner.found
    for node in ast.walk(tree):
        line = getattr(node, "lineno", "?")
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [f"{node.module or ''}.{alias.name}" if node.module else alias.name for alias in node.names]
        else:
            names = []
        for name in names:
            if name.split(".")[0] == "aecourse" and not allowed(name):
                found.append(f"import {name} (line {line})")
            elif name.split(".")[0] in DYNAMIC_MODULES:
                found.append(f"import {name}, which can hide what the code calls (line {line})")
        if isinstance(node, ast.Attribute) and node.attr in DYNAMIC_ATTRIBUTES:
            found.append(f".{node.attr}, which can hide what the code calls (line {line})")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "aecourse" in node.value:
            found.append(f"the name aecourse in a string (line {line})")
    return list(dict.fromkeys(found))
