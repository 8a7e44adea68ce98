"""The exceptions qa raises. Only the CLI and the servers (chat, REST, MCP) turn them into messages.

    QAError
    ├── IndexMissing        no index where one was asked for
    ├── IndexIncompatible   index built with another model or format
    ├── IndexCorrupt        an index file is damaged or truncated
    ├── IndexLocked         another writer holds the index
    ├── IndexUnwritable     the index cannot be written (disk full, read-only, not a folder)
    ├── FolderMissing       the folder to index does not exist
    ├── FolderReadOnly      a file cannot be added to or removed from the folder
    ├── BadQuestion         empty or unusable question
    ├── BadDate             a date that cannot be parsed
    ├── BadArgument         a call's argument qa cannot use (k, a folder of None)
    ├── DocumentError       one file cannot be loaded (reported, never fatal to a sync)
    ├── DocumentNotFound    no indexed document has that source path
    ├── UploadRejected      an uploaded file is empty or badly named
    │   ├── UploadTooLarge  ... or over the size limit
    │   └── UnsupportedType ... or of a type qa cannot read
    ├── ConfigError         a bad environment variable or command-line setting (QA_PRECISION, --auth)
    ├── DatasetError        an evaluation dataset is missing a file or has a malformed line
    ├── ClusterError        Ray cannot be reached, or a distributed job lost vectors
    └── MissingExtra        an optional dependency (ray, gradio) is not installed
"""

from __future__ import annotations


class QAError(Exception):
    """Base class: every error qa raises on purpose."""


class IndexMissing(QAError):
    """No index in the directory that was given."""


class IndexIncompatible(QAError):
    """The index was built with another model, dimension or format version."""


class IndexCorrupt(QAError):
    """An index file is damaged, truncated or missing."""


class IndexLocked(QAError):
    """Another process is writing the index."""


class IndexUnwritable(QAError):
    """The index directory cannot be written: the disk is full, it is read-only, or it is not a folder."""


class FolderMissing(QAError):
    """The folder to index does not exist or is not a folder."""


class FolderReadOnly(QAError):
    """The indexed folder refuses a change: a file cannot be added or removed there."""


class BadQuestion(QAError):
    """The question is empty or cannot be searched."""


class BadDate(QAError):
    """A date argument cannot be parsed."""


class BadArgument(QAError):
    """An argument of a call has a type or value qa cannot use (k, a folder given as None)."""


class DocumentError(QAError):
    """A file cannot be loaded; the sync skips it and reports why."""


class DocumentNotFound(QAError):
    """No document with that source path is in the index."""


class UploadRejected(QAError):
    """An uploaded file breaks the size, type or name rules."""


class UploadTooLarge(UploadRejected):
    """An uploaded file is over the size limit."""


class UnsupportedType(UploadRejected):
    """An uploaded file has a suffix qa has no loader for."""


class MissingExtra(QAError):
    """An optional dependency is not installed."""


class ConfigError(QAError):
    """A setting from the environment or the command line has a value qa cannot use."""


class DatasetError(QAError):
    """An evaluation dataset is missing a file or has a malformed line."""


class ClusterError(QAError):
    """Ray cannot be reached or started, or a distributed job returned too few vectors."""
