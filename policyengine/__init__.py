"""policyengine: a declarative, explainable policy engine for Medicare RPM billing."""

__version__ = "0.1.0"
