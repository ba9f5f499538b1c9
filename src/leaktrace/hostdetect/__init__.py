"""Host detectors: behaviour on the endpoint (staging, attachment execution, Office → shell, credential
dumping) and Sigma rules over endpoint events. Pure rules in :mod:`~leaktrace.hostdetect.rules`; the
detector classes in :mod:`~leaktrace.hostdetect.detectors` register in the one detector registry."""
