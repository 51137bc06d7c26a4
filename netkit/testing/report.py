"""What a conformance check checked: each check returns a report listing what passed, ending in "ok".

A failing check raises ``AssertionError`` saying what is wrong, so a report only ever holds passes; printing
it shows a plugin author what was proven::

    >>> print(check_activation(Swish()))
    Swish (activation): ok, 7 checks passed
      ✓ init is 'he', an initialisation netkit knows
      ...
"""

from __future__ import annotations

import attrs


@attrs.define(repr=False)
class ConformanceReport:
    """The checks one plugin passed, in the order they ran."""

    plugin: str
    checks: list[str] = attrs.field(factory=list)

    @property
    def ok(self) -> bool:
        """Always true: a failing check raises instead of returning a report."""
        return True

    def passed(self, check: str) -> None:
        self.checks.append(check)

    def include(self, other: ConformanceReport) -> ConformanceReport:
        """Add another report's checks (a check that runs others) and return this one."""
        self.checks.extend(other.checks)
        return self

    def __str__(self) -> str:
        lines = [f"{self.plugin}: ok, {len(self.checks)} checks passed"]
        lines.extend(f"  ✓ {check}" for check in self.checks)
        return "\n".join(lines)

    __repr__ = __str__
