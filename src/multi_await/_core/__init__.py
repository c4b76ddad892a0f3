"""The core: one abort engine, written against AnyIO alone, and what it is made of.

- ``_inputs``: what the caller passed, checked and classified before anything starts;
- ``_turns``: which input starts next, and when (``max_concurrency``, ``stagger``,
  ``max_per_second``);
- ``_source``, ``_feed``: inputs pulled lazily from an iterable into slots, for
  ``map_or_abort``, and who pulls them (an async one: a task of its own);
- ``_results``: what each input gave, by position, and a read-only view of it;
- ``_verdict``: why the engine stopped, and the one exception the call raises;
- ``_engine``: the lifecycle of a call (open, wait, close, drain) and the stuck report;
- ``_options``, ``_wakeup``: the checked arguments of a call, and sleeping until news.

Letting go
    Several frames here may outlive the call: a raised exception's traceback holds
    them, and on Trio so does the traceback of every ``Cancelled`` an abort raises in
    an input, until the input's cleanup is done with it. Such a frame ends with
    ``del`` of every input, result and exception it holds, so that an exception the
    call raises keeps no input alive and no exception is part of a reference cycle
    with itself. The ``del`` statements marked ``# let go`` are that idiom.
"""
