"""validate: schemas, references, files and conventions, each finding a Diagnostic."""

import sys

# jsonschema imports every optional format library it finds. rfc3987-syntax compiles a grammar when imported
# (about a second) and techfile's schemas do not need it (URLs are pattern-checked as well), so `check` keeps
# it out unless something imported it already.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
