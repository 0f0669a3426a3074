"""The application: the ``workbench`` command, reports, the dashboard server, ``workbench lab``,
``check`` and ``init`` of a project, the sample-data generator and the packaged notebooks.

The top layer: it may import everything below it, nothing imports it (docs/architecture.md).
"""
