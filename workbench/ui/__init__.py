"""ipywidgets views over the engine: the only package of the workbench that imports ipywidgets.

    app.build_app()        the whole web app (tabs: live run, results, energy model, formulas)
    live.LiveRunView       controls + a worker thread running workbench.runs.run + live plots
    results.ResultsView    the ledger as a table, CSV download, compare, frontier, seed claims
    energy_explorer        seed model E1–E6 sliders beside the consistent model fitted to runs
    formula_explorer       sigmoid, cross-entropy, gradient descent (F1–F5) with sliders
    plots                  matplotlib (Agg) figures as PNG bytes: no widgets in there
    serve                  `python -m workbench.ui.serve`: the app under Voila

Threads: work runs in worker threads that only set widget traits (Image.value, HTML.value,
.disabled); `with out:` and clear_output() from a thread are silently lost, so none is used.
"""
