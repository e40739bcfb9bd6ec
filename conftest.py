"""Test configuration shared by spec/ and conformance/: hypothesis profiles.

``ci`` (the default) is derandomized and bounded so a run is repeatable and fits CI's budget;
``deep`` explores many more examples: ``pytest --hypothesis-profile=deep``.
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=40,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "deep",
    max_examples=2000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("ci")
