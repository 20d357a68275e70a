"""Depth estimation for footage, on the pure floor (numpy; ONNX Runtime only in ``model``, on
first use). ``bl/estimation`` reads the footage and writes the EXRs through Blender.

- ``model``: a depth network ready to run (its signature read from the session, the registry's
  rules, checksums), and whether ONNX Runtime is there.
- ``request``: what one estimation is asked (:class:`EstimateRequest`) and gives, and metric
  depth from the aligned result.
- ``registry``: the permissively licensed models Rack Focus knows (files, checksums, input and
  output rules, licences) and the models it will not use (non-commercial licences).
- ``preprocess``: footage pixels to the network's input tensor (resize, normalise).
- ``upsample``: the network's low-resolution output back to footage size without smearing depth
  across edges (guided by the footage).
- ``align``: relative output to metres (one robust scale and shift in inverse-depth space per
  shot segment, against anchors), frame-to-frame stabilisation, scene-cut detection.
- ``motion``: how the picture moved between frames, and frame-to-frame fits on the pixels that
  motion matches (the chain that keeps a moving shot in one frame's units).
- ``temporal``: the edge-aware temporal filter for per-frame models.
- ``video``: video models end to end: windows with keyframes and overlap, their fit and
  cross-fade, single-file and encoder + head exports, streamed window by window.
"""
