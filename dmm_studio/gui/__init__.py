"""The studio (Qt). Only this package imports Qt, NodeGraphQt and pyqtgraph."""
