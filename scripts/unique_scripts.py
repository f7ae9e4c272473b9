"""Sphinx extension: each page loads each script once.

Sphinx 7.4 writes an inline script that an extension adds after the builder
starts (sphinx-thebe's and sphinx-togglebutton's) twice: once with the file
name `None`, once with `""`, which its duplicate check tells apart. So every
page declared `const THEBE_JS_URL` twice and the browser logged "Identifier
'THEBE_JS_URL' has already been declared". This drops the second copy of
any script (same file, or same inline body) from each page. `_config.yml`
loads it (`sphinx: local_extensions`).
"""


def _drop_repeated_scripts(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = (getattr(script, "filename", script) or "", getattr(script, "attributes", {}).get("body"))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"][:] = unique


def setup(app):
    app.connect("html-page-context", _drop_repeated_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
