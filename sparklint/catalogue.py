"""Every rule sparklint has, assembled from the modules that declare them: the static checks,
the two engine rules and the runtime rules of run profiles."""

from __future__ import annotations

from sparklint.checks import CHECKS
from sparklint.profile.runtime_rules import RUNTIME_RULES
from sparklint.rules import PARSE_ERROR, UNUSED_NOQA, Rule


def runtime_rules() -> tuple[Rule, ...]:
    """Rules only a run profile can raise (declared beside the profile reader)."""
    return tuple(RUNTIME_RULES)


def all_rules() -> tuple[Rule, ...]:
    """Every rule, in code order."""
    rules = [PARSE_ERROR, UNUSED_NOQA, *(check.RULE for check in CHECKS), *runtime_rules()]
    return tuple(sorted(rules, key=lambda rule: rule.code))


def rule_by_code() -> dict[str, Rule]:
    return {rule.code: rule for rule in all_rules()}


def resolve_rule_id(text: str) -> Rule | None:
    """A rule by code (`SPK001`) or slug (`coalesce-before-write`)."""
    text = text.strip()
    for rule in all_rules():
        if text.upper() == rule.code or text.lower() == rule.slug:
            return rule
    return None
