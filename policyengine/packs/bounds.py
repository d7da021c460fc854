"""What a rate and a count of units can be, whatever a pack says: bounds that catch a
mistyped value before it bills (a negative RVU bills a negative amount; 10^6 units bill
millions). The compiler checks the values it can see; the engine checks the rest when it
computes them, and a value out of bounds is an error of the pack, never a line billed."""
from __future__ import annotations

from decimal import Decimal

#: the largest relative value unit of a code (the largest in the Medicare fee schedule are under 200)
MAX_RVU = Decimal(1000)
#: the largest conversion factor, in dollars per RVU (Medicare's has stayed between $30 and $40)
MAX_CONVERSION_FACTOR = Decimal(1000)
#: the largest rate per unit a decision bills
MAX_RATE = MAX_RVU * MAX_CONVERSION_FACTOR
#: the most units one line bills (no code of a month or a 30-day period comes near it)
MAX_UNITS = 100
