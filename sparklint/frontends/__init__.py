"""Front ends: source bytes in, one `model.Module` out. Nothing else happens here."""

from __future__ import annotations

from sparklint import model as m

LANGUAGE_BY_SUFFIX = {".py": "python", ".pyi": None, ".scala": "scala", ".sc": None}
SOURCE_SUFFIXES = tuple(suffix for suffix, language in LANGUAGE_BY_SUFFIX.items() if language)


def language_of(path: str) -> str | None:
    for suffix, language in LANGUAGE_BY_SUFFIX.items():
        if path.endswith(suffix):
            return language
    return None


def lower(rel_path: str, source: bytes) -> m.Module:
    """Lower one file into the model; a file that cannot be decoded or parsed still yields a
    module carrying its parse errors."""
    language = language_of(rel_path)
    try:
        source.decode("utf-8")
    except UnicodeDecodeError as error:
        line = source[: error.start].count(b"\n") + 1
        return _unparsable(rel_path, language or "unknown", line, f"not valid UTF-8 (byte {error.start})", source,
                           kind="encoding")
    if language == "python":
        from sparklint.frontends.python import lower_python
        from sparklint.frontends.screen import too_complex

        reason = too_complex(source)
        if reason is not None:
            return _unparsable(rel_path, language, 1, f"{reason}, more than libcst's parser can take safely", source)
        try:
            return lower_python(rel_path, source)
        except RecursionError:
            return _unparsable(rel_path, language, 1, "too deeply nested to analyse", source)
        except Exception as error:  # a libcst internal failure must not stop the other files
            # Never str() the error: libcst's messages embed node reprs that recurse.
            return _unparsable(rel_path, language, 1, f"could not be analysed ({type(error).__name__} in libcst)", source)
    if language == "scala":
        try:
            from sparklint.frontends.scala import lower_scala
        except ImportError:
            return _unparsable(rel_path, "scala", 1, "the Scala front end is not available", source)
        return lower_scala(rel_path, source)
    raise ValueError(f"no front end for {rel_path}")


def unparsable(rel_path: str, source: bytes, message: str) -> m.Module:
    """The module of a file that could not be lowered, carrying why (reported as SPK000)."""
    return _unparsable(rel_path, language_of(rel_path) or "unknown", 1, message, source)


def _unparsable(rel_path: str, language: str, line: int, message: str, source: bytes, kind: str = "limit") -> m.Module:
    stem = rel_path.rsplit(".", 1)[0].replace("/", ".")
    return m.Module(
        path=rel_path,
        language=language,
        name=stem,
        namespace=stem,
        parse_errors=(m.ParseError(message, m.Span(line, 1, line, 1), kind),),
        line_count=source.count(b"\n") + 1,
    )
