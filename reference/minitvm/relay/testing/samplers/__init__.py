"""Per-operator samplers, grouped as the operator definitions are; ``op_samplers`` gathers
them into one table."""
