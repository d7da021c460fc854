"""The compliance team's tools for next year's pack: what changed between two packs
(`diff`), what the change does to real decisions (`impact`), what `validate` cannot see
(`lint`), and a new overlay to start from (`scaffold`)."""
