"""Document inventory: extract text by zone, classify (schemes), find personal data, fingerprint, store.

Public API::

    from leaktrace.documents import scan, Inventory, Classifier, fingerprints, containment
    with Inventory(workspace) as inv:  # the workspace's tenant; Inventory(workspace, "agency") for another
        inv.upsert(scan([share], workspace.config, previous=inv))

Modules: ``model`` (records, zones), ``extract`` (one module per format + registry), ``schemes`` (levels as
data), ``classify``, ``pii``, ``fingerprint``, ``scanner`` (walk + incremental), ``store`` (SQLite, tenants
kept apart), ``samples`` (generate marked test documents). The subpackage ``extract`` and the module ``schemes`` are not
shadowed here: use ``leaktrace.documents.extract.extract`` and ``leaktrace.documents.schemes.schemes``.
"""

from leaktrace.documents.classify import Classifier
from leaktrace.documents.extract import Context, Limits, detect_format, extractors
from leaktrace.documents.fingerprint import containment, fingerprints, similarity, text_sha256
from leaktrace.documents.model import (
    Classification,
    DocumentRecord,
    Evidence,
    Extraction,
    MsipLabel,
    PiiSummary,
    Segment,
    Status,
    Zone,
)
from leaktrace.documents.pii import corporate_number_ok, find_pii, my_number_ok, summarize
from leaktrace.documents.scanner import Scanner, ScanProgress, iter_files, scan
from leaktrace.documents.schemes import Level, Scheme, load_scheme
from leaktrace.documents.store import FingerprintMatch, Inventory

__all__ = [
    "Classification", "Classifier", "Context", "DocumentRecord", "Evidence", "Extraction", "FingerprintMatch",
    "Inventory", "Level", "Limits", "MsipLabel", "PiiSummary", "ScanProgress", "Scanner", "Scheme", "Segment",
    "Status", "Zone", "containment", "corporate_number_ok", "detect_format", "extractors",
    "find_pii", "fingerprints", "iter_files", "load_scheme", "my_number_ok", "scan", "similarity",
    "summarize", "text_sha256",
]
