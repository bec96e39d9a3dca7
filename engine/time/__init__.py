"""Time: the clock, the working-day calendar, timers, SLA breaches and service clocks.

- :mod:`.clock` — the system clock and a frozen one for tests;
- :mod:`.calendar` — working days (Indonesian holidays, closure days) and durations;
- :mod:`.timers` — the sweep that fires due timers and records SLA breaches;
- :mod:`.start_timers` — timer start events of deployed processes;
- :mod:`.sla` — breaches, their escalation, and each instance's service clock.
"""
