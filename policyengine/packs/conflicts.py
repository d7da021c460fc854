"""Conflicts between codes: read from the pack's `conflicts:` section, checked, and indexed
into the table the engine's resolver reads.

Two kinds of entry (`policyengine.packs.model.Conflict`):

    conflicts:
      - id: concurrency.supply_bands                 # two codes never billed together
        codes: ["A1111", "A2222"]
        keep: "A2222"                                 # billed when the rules earn both
        citation: the rule that says so
      - id: concurrency.one_practitioner             # one practitioner may bill them together
        codes: ["A1111", "A2222", "A3333"]
        one_practitioner: true
        citation: the rule that says so

The resolution does not depend on the order of rules or entries, so the compiler refuses
what would make it depend on anything: an unknown code, an entry that can never apply, a
pair stated twice (the same way or the other way), a cycle of codes kept over each other
or required by each other, and a rule that requires a code it is never billed with.
A rule's `excludes:` (contract v1) is still read, as the two-code conflict it means, with
a warning that shows that entry.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from ..diagnostics import Diagnostic, suggestion_suffix
from .loader import Entry, SourcePack
from .model import Conflict, ConflictTable, Rule


class ConflictCompiler:
    """Builds the conflict table of a pack; problems go to the lists it is given."""

    def __init__(self, source: SourcePack, errors: list[Diagnostic], warnings: list[Diagnostic]) -> None:
        self.source, self.errors, self.warnings = source, errors, warnings
        #: where each conflict was written (its entry), for the diagnostics about it
        self.written: dict[str, Entry] = {}

    def compile(self, rules: tuple[Rule, ...], rule_entries: Mapping[str, Entry]) -> ConflictTable:
        entries = [c for entry in self.source.conflicts.values() if (c := self.entry(entry)) is not None]
        for rule in rules:
            entries += self.from_excludes(rule, rule_entries[rule.id])
        decided = {rule.code for rule in rules}
        kept = self.stated_once([c for c in entries if self.applies(c, decided)])
        self.one_rule_per_code(rules, rule_entries)
        winners, partners, groups = _index(kept)
        self.billable_with_requirements(rules, rule_entries, winners, decided)
        order = self.order(decided, winners, rules)
        return ConflictTable(tuple(kept), winners, partners, groups, order)

    # --- reading ---------------------------------------------------------------------------

    def entry(self, entry: Entry) -> Conflict | None:
        v = entry.value
        missing = [key for key in ("codes", "citation") if key not in v]
        if missing:
            self._error(entry, "", "pack.missing_field", f"conflict '{v['id']}' needs {', '.join(missing)}",
                        "a conflict states its codes, keep (or one_practitioner: true) and citation", at_key=True)
            return None
        self.written[v["id"]] = entry
        codes = tuple(str(code) for code in v["codes"])
        unknown = [(i, code) for i, code in enumerate(codes) if code not in self.source.codes]
        for i, code in unknown:
            self._error(entry, f"codes/{i}", "pack.unknown_code",
                        f"unknown code '{code}'{suggestion_suffix(code, self.source.codes)}", "declare it under codes:")
        keep = str(v["keep"]) if "keep" in v else None
        one_practitioner = bool(v.get("one_practitioner", False))
        problem = self._keep_problem(v["id"], codes, keep, one_practitioner)
        if problem is not None:
            key, message, hint = problem
            self._error(entry, key, "pack.conflict_keep", message, hint)
        if problem is not None or unknown:
            return None
        return Conflict(v["id"], codes, keep, one_practitioner, str(v["citation"]), v.get("description"))

    @staticmethod
    def _keep_problem(conflict_id: str, codes: tuple[str, ...], keep: str | None, one_practitioner: bool
                      ) -> tuple[str, str, str | None] | None:
        """(key, message, hint) when `keep` does not fit the kind of conflict."""
        if one_practitioner and keep is not None:
            return ("keep", "a one_practitioner conflict keeps no code: one practitioner may bill them all",
                    "leave keep out, or one_practitioner out for two codes never billed together")
        if not one_practitioner and (keep is None or len(codes) != 2):
            return ("codes", f"conflict '{conflict_id}' needs two codes and the one it keeps",
                    "e.g. codes: [A, B], keep: B; for three codes, write the three pairs, each with the code it keeps")
        if not one_practitioner and keep not in codes:
            return ("keep", f"conflict '{conflict_id}' keeps '{keep}', which is not one of its codes {list(codes)}", None)
        return None

    def from_excludes(self, rule: Rule, entry: Entry) -> list[Conflict]:
        """The conflicts a rule's deprecated `excludes:` means, each with a warning."""
        found = []
        for i, other in enumerate(entry.value.get("excludes", ())):
            other = str(other)
            if other not in self.source.codes:
                self._error(entry, f"excludes/{i}", "pack.unknown_code",
                            f"unknown code '{other}'{suggestion_suffix(other, self.source.codes)}", "declare it under codes:")
                continue
            conflict = Conflict(f"{rule.id}.not_with_{other}", (rule.code, other), other, False,
                                rule.citation or f"rule {rule.id}", None)
            self.written[conflict.id] = entry
            doc, pointer = entry.origin(f"excludes/{i}")
            self.warnings.append(Diagnostic(
                "pack.excludes_deprecated",
                f"'excludes' is deprecated: read as the conflict '{conflict.id}' ({rule.code} is not billed with "
                f"{other}; {other} is kept), which also holds when {other} is billed elsewhere, whatever the rule order",
                doc.span(pointer), severity="warning",
                hint="write it in the conflicts: section instead:\n" + _as_yaml(conflict)))
            found.append(conflict)
        return found

    # --- checks ----------------------------------------------------------------------------

    def applies(self, conflict: Conflict, decided: set[str]) -> bool:
        """Whether a conflict can ever change a decision: one of its codes must be decided
        by a rule of this pack (else it is an error: a dead entry in a billing pack)."""
        if decided & set(conflict.codes):
            return True
        self._error(self.written[conflict.id], "codes", "pack.conflict_never_applies",
                    f"conflict '{conflict.id}' can never apply: no rule of this pack decides "
                    f"{' or '.join(conflict.codes)}", "remove it, or add the rule it is meant for")
        return False

    def stated_once(self, conflicts: list[Conflict]) -> list[Conflict]:
        """The conflicts, each pair of codes kept one way by one entry (a later entry that
        repeats or contradicts an earlier one is an error, and left out)."""
        said: dict[frozenset[str], Conflict] = {}
        once = []
        for conflict in conflicts:
            earlier = said.setdefault(frozenset(conflict.codes), conflict) if not conflict.one_practitioner else conflict
            if earlier is conflict:
                once.append(conflict)
                continue
            same = earlier.keep == conflict.keep
            self._error(self.written[conflict.id], "keep" if not same else "codes",
                        "pack.conflict_repeats" if same else "pack.conflict_contradicts",
                        f"conflict '{conflict.id}' {'repeats' if same else 'contradicts'} conflict '{earlier.id}': "
                        f"that one keeps {earlier.keep} over {earlier.other(earlier.keep or '')}"
                        + ("" if same else f", this one keeps {conflict.keep}"),
                        "state each pair of codes once, with the code it keeps")
        return once

    def one_rule_per_code(self, rules: tuple[Rule, ...], rule_entries: Mapping[str, Entry]) -> None:
        first: dict[str, Rule] = {}
        for rule in rules:
            earlier = first.setdefault(rule.code, rule)
            if earlier is not rule:
                self._error(rule_entries[rule.id], "code", "pack.code_decided_twice",
                            f"rule '{rule.id}' decides {rule.code}, which rule '{earlier.id}' decides already",
                            "one rule decides each code; change that rule (an overlay restates its id)")

    def billable_with_requirements(self, rules: tuple[Rule, ...], rule_entries: Mapping[str, Entry],
                                   winners: Mapping[str, tuple[tuple[str, Conflict], ...]], decided: set[str]) -> None:
        """A rule must be able to bill: every code it requires is decided by a rule, and
        none of them is kept over it."""
        for rule in rules:
            for i, required in enumerate(rule.requires):
                if required not in decided:
                    self._error(rule_entries[rule.id], f"requires/{i}", "pack.rule_never_bills",
                                f"rule '{rule.id}' requires {required}, which no rule of this pack decides")
                dropping = next((c for code, c in winners.get(rule.code, ()) if code == required), None)
                if dropping is not None:
                    self._error(rule_entries[rule.id], f"requires/{i}", "pack.rule_never_bills",
                                f"rule '{rule.id}' can never bill: it requires {required}, and conflict "
                                f"'{dropping.id}' keeps {required} over {rule.code}")

    def order(self, decided: set[str], winners: Mapping[str, tuple[tuple[str, Conflict], ...]],
              rules: tuple[Rule, ...]) -> tuple[str, ...]:
        """The decided codes, each after the codes kept over it and the codes it requires
        (a topological order; ties by code, so the order is the pack's, never the file's)."""
        before: dict[str, set[str]] = {code: set() for code in decided}
        for code in decided:
            before[code].update(w for w, _ in winners.get(code, ()) if w in decided)
        for rule in rules:
            before[rule.code].update(r for r in rule.requires if r in decided)
        order: list[str] = []
        ready = sorted(code for code, deps in before.items() if not deps)
        while ready:
            code = ready.pop(0)
            order.append(code)
            for other in sorted(before):
                if code in before[other]:
                    before[other].discard(code)
                    if not before[other] and other not in order and other not in ready:
                        ready.append(other)
            ready.sort()
        stuck = sorted(code for code in before if code not in order)
        if stuck:
            cycle = _cycle(stuck, before)
            entry, key = self._entry_of(cycle, winners, rules)
            self._error(entry, key, "pack.conflict_cycle",
                        "codes kept over or required by one another in a cycle: " + ", ".join(cycle[:-1]),
                        "no answer to a cycle is free of the order of the rules; break it")
        return tuple(order)

    # --- helpers ---------------------------------------------------------------------------

    def _entry_of(self, cycle: list[str], winners: Mapping[str, tuple[tuple[str, Conflict], ...]],
                  rules: tuple[Rule, ...]) -> tuple[Entry, str]:
        """Where to report a cycle (each code in it waits for the next): a conflict in
        it, else the first rule in it that requires the next code."""
        for waiting, first in zip(cycle, cycle[1:]):
            for winner, conflict in winners.get(waiting, ()):
                if winner == first:
                    return self.written[conflict.id], "keep"
        rule = next(r for r in rules if r.code in cycle and r.requires)
        return self.source.rules[rule.id], "requires"

    def _error(self, entry: Entry, key: str, code: str, message: str, hint: str | None = None,
               at_key: bool = False) -> None:
        doc, pointer = entry.origin(key)
        self.errors.append(Diagnostic(code, message, doc.span(pointer, key=at_key), hint=hint))


def _index(conflicts: Iterable[Conflict]) -> tuple[dict, dict, dict]:
    winners: dict[str, list] = defaultdict(list)
    partners: dict[str, list] = defaultdict(list)
    groups: dict[str, list] = defaultdict(list)
    for conflict in conflicts:
        if conflict.one_practitioner:
            for code in conflict.codes:
                groups[code].append(conflict)
            continue
        keep = conflict.keep or ""
        winners[conflict.other(keep)].append((keep, conflict))
        for code in conflict.codes:
            partners[code].append((conflict.other(code), conflict))

    def frozen(table: dict[str, list]) -> dict[str, tuple]:
        return {code: tuple(sorted(items, key=_by_code)) for code, items in sorted(table.items())}

    return frozen(winners), frozen(partners), {code: tuple(sorted(g, key=lambda c: c.id)) for code, g in sorted(groups.items())}


def _by_code(item: tuple[str, Conflict]) -> tuple[str, str]:
    return item[0], item[1].id


def _cycle(stuck: list[str], before: dict[str, set[str]]) -> list[str]:
    """One cycle among codes that wait for each other, as a path that returns to its start."""
    path = [stuck[0]]
    while True:
        nxt = sorted(before[path[-1]] & set(stuck))[0]
        if nxt in path:
            return path[path.index(nxt):] + [nxt]
        path.append(nxt)


def _as_yaml(conflict: Conflict) -> str:
    codes = ", ".join(f'"{code}"' for code in conflict.codes)
    return (f"    conflicts:\n      - id: {conflict.id}\n        codes: [{codes}]\n        keep: \"{conflict.keep}\"\n"
            f"        citation: {conflict.citation}")
