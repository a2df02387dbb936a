"""What to generate: option specs, the Scenario, the calendar, drift schedules and faults.

- ``fields``: typed option specs (``Field``), validation with field-naming errors, JSON Schema.
- ``scenario``: ``Scenario`` and ``make_scenario``, the common options, their defaults.
- ``calendar``: the day-by-day volume model of historical mode (holidays, paydays, seasons).
- ``drift``: a scenario's drift plan and its recorded schedule.
- ``faults``: noise and missing values on a block's measured fields.
- ``traits``: the part of a generator that drift and faults read (a protocol).

May import: ``simtom.errors``, ``simtom_kernels``, and third-party libraries. Nothing above
(``engine``, ``outputs``, ``serving``, the interfaces).
"""
