"""Built-in dataset plugins: MNIST, Fashion-MNIST, any IDX folder, a folder of images, a CSV file.

Each is a small attrs class whose fields are its JSON config; ``load(data_dir, download)`` returns a
:class:`netkit.data.Dataset`. The work itself lives in :mod:`netkit.data`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, TypeVar

import attrs
import numpy as np

from netkit.data import Dataset, split_validation
from netkit.data import idxset as idx
from netkit.data.csvfile import image_shape_for, read_csv
from netkit.data.decoded import DecodedCache
from netkit.data.download import ProgressCallback, mirrors_for
from netkit.data.imagefolder import class_names_for, find_splits, labels_for, load_listing, scan
from netkit.errors import DatasetError
from netkit.types import Config, FloatArray, LabelArray

_MNIST_FILES = (
    ("train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
     "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    ("train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
     "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    ("t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
     "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    ("t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
     "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
)  # fmt: skip
# Content digests taken from Debian's dataset-fashion-mnist files after checking that their deflate
# streams, given back the original gzip header, reproduce the MD5s the Fashion-MNIST README publishes.
_FASHION_FILES = (
    ("train-images-idx3-ubyte", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
     "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
    ("train-labels-idx1-ubyte", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
     "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
    ("t10k-images-idx3-ubyte", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
     "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
    ("t10k-labels-idx1-ubyte", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
     "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
)  # fmt: skip


def _spec(
    name: str,
    files: tuple[tuple[str, str, str], ...],
    class_names: tuple[str, ...],
    mirrors: tuple[str, ...],
    *system_dirs: Path,
) -> idx.IdxDatasetSpec:
    train_images, train_labels, test_images, test_labels = (
        idx.IdxFile(stem, content_sha256, (gzip_sha256,)) for stem, content_sha256, gzip_sha256 in files
    )
    return idx.IdxDatasetSpec(
        name, train_images, train_labels, test_images, test_labels, class_names, mirrors, system_dirs
    )


MNIST = _spec(
    "mnist",
    _MNIST_FILES,
    tuple("0123456789"),
    ("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"),
)
FASHION_MNIST = _spec(
    "fashion-mnist",
    _FASHION_FILES,
    ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    Path("/usr/share/datasets/fashion-mnist"),  # where Debian's dataset-fashion-mnist installs it
)

Loader = TypeVar("Loader")
Catalog = TypeVar("Catalog", bound="_IdxCatalogDataset")


def _from_config(cls: type[Loader], config: Config) -> Loader:
    unknown = sorted(set(config) - {field.name for field in attrs.fields(cls)})  # type: ignore[arg-type]
    if unknown:
        accepted = ", ".join(field.name for field in attrs.fields(cls))  # type: ignore[arg-type]
        raise DatasetError(f"unknown option(s) {', '.join(unknown)} for {cls.__name__}; accepted: {accepted}")
    return cls(**config)


def _is_bool(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise DatasetError(f"{attribute.name} must be true or false. Received: {attribute.name}={value!r}")


def _is_fraction(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise DatasetError(f"{attribute.name} must be a number in (0, 1). Received: {attribute.name}={value!r}")


def _is_seed(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DatasetError(f"{attribute.name} must be an integer >= 0. Received: {attribute.name}={value!r}")


def _is_optional_path(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise DatasetError(f"{attribute.name} must be a file or folder path. Received: {attribute.name}={value!r}")


def _names(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and value and all(isinstance(name, str) for name in value):
        return tuple(value)
    raise DatasetError(f"class_names must be a non-empty list of strings. Received: class_names={value!r}")


def _location(path: str | None, data_dir: Path | None, what: str) -> Path:
    if data_dir is not None:
        return Path(data_dir)
    if path is None:
        raise DatasetError(f"no {what} given: set the dataset's path option or pass --data-dir")
    return Path(path).expanduser()


def _hold_out(
    images: FloatArray, labels: LabelArray, fraction: float, seed: int, source: Path
) -> tuple[FloatArray, LabelArray, FloatArray, LabelArray]:
    """A seeded random test set of ``fraction`` of the rows (at least one, never all)."""
    if len(images) < 2:
        raise DatasetError(f"{source} holds {len(images)} image(s); need at least 2 to hold out a test set")
    count = min(max(1, round(len(images) * fraction)), len(images) - 1)
    split = split_validation(images, labels, count, np.random.default_rng(seed))
    return split.train_images, split.train_labels, split.validation_images, split.validation_labels


@attrs.frozen
class _IdxCatalogDataset:
    """The shared behaviour of datasets published as four IDX files (see :mod:`netkit.data.idxset`)."""

    spec: ClassVar[idx.IdxDatasetSpec]
    cache: bool = attrs.field(default=False, validator=_is_bool)

    def get_config(self) -> Config:
        return {"cache": self.cache}

    @classmethod
    def from_config(cls: type[Catalog], config: Config) -> Catalog:
        return _from_config(cls, config)

    def load(
        self, data_dir: Path | None = None, download: bool = True, progress: ProgressCallback | None = None
    ) -> Dataset:
        """Find the four files (downloading the missing ones when ``download``) and decode them."""
        cache = DecodedCache() if self.cache else None
        return idx.load(self.spec, data_dir, download, progress, cache)

    def status(self, data_dir: Path | None = None, verify: bool = True) -> list[idx.FileStatus]:
        """Per file: folders searched, where it was found, whether its SHA-256 is right."""
        return idx.status(self.spec, data_dir, verify)

    def download(self, progress: ProgressCallback | None = None, data_dir: Path | None = None) -> Path:
        """Fetch the files found nowhere on the search path into the user cache; return that folder."""
        return idx.download(self.spec, data_dir, progress)

    def mirrors(self) -> tuple[str, ...]:
        """The base URLs downloads try, in order (``NETKIT_<NAME>_MIRROR`` replaces the defaults)."""
        return mirrors_for(self.spec.name, self.spec.mirrors)


@attrs.frozen
class Mnist(_IdxCatalogDataset):
    """LeCun, Cortes and Burges' handwritten digits: 60,000 training and 10,000 test images, 28x28.

    Looked for in ``data_dir``, ``$NETKIT_DATA/mnist/`` and ``~/.cache/netkit/mnist/``; downloaded into
    the cache when missing (override the mirrors with ``NETKIT_MNIST_MIRROR``). ``cache=true`` keeps the
    decoded arrays as memory-mapped ``.npy`` files so that later loads take milliseconds.
    """

    spec: ClassVar[idx.IdxDatasetSpec] = MNIST


@attrs.frozen
class FashionMnist(_IdxCatalogDataset):
    """Zalando's Fashion-MNIST: 28x28 grayscale clothing images in 10 classes, MNIST's layout and sizes.

    Looked for like MNIST under the name ``fashion-mnist``, and finally in Debian's
    ``/usr/share/datasets/fashion-mnist/`` (package ``dataset-fashion-mnist``).
    """

    spec: ClassVar[idx.IdxDatasetSpec] = FASHION_MNIST


@attrs.frozen
class IdxFolder:
    """Any folder with one training and one test pair of IDX image/label files, e.g. a MNIST clone.

    Files are recognised by name: ``*train*images*``, ``*train*labels*`` and ``*t10k*`` or ``*test*`` for
    the test pair (gzip or raw). ``class_names`` defaults to ``"0"`` .. the largest label.
    """

    path: str | None = attrs.field(default=None, validator=_is_optional_path)
    class_names: tuple[str, ...] | None = attrs.field(default=None, converter=_names)
    cache: bool = attrs.field(default=False, validator=_is_bool)

    def get_config(self) -> Config:
        names = None if self.class_names is None else list(self.class_names)
        return {"path": self.path, "class_names": names, "cache": self.cache}

    @classmethod
    def from_config(cls, config: Config) -> IdxFolder:
        return _from_config(cls, config)

    def load(self, data_dir: Path | None = None, download: bool = True) -> Dataset:
        """Decode the folder's four IDX files (``data_dir``, when given, replaces ``path``; nothing is downloaded)."""
        paths = idx.match_folder(_location(self.path, data_dir, "IDX folder"))
        cache = DecodedCache() if self.cache else None
        train_images, train_labels, test_images, test_labels = idx.read_dataset(paths, cache)
        largest = int(max(train_labels.max(), test_labels.max()))
        names = self.class_names or tuple(str(label) for label in range(largest + 1))
        return idx.checked_dataset("idx", train_images, train_labels, test_images, test_labels, names)


@attrs.frozen
class PngFolder:
    """A folder of images, one subfolder per class (``root/7/...png`` is a 7; subfolders may nest).

    Images of any mode and size become 28x28 rows by :func:`netkit.data.images.to_mnist`:
    ``preprocess="mnist"`` crops to the ink, fits it in 20x20 and centres it by mass (for drawings and
    photos); ``"resize"`` only resizes (for images already like MNIST). The test set is the ``test``
    folder when the root holds just ``train/`` and ``test/``, else a seeded random ``test_fraction``.
    Decoded images are cached under the user cache (``cache=false`` turns that off) until a file changes.
    See :mod:`netkit.data.imagefolder` for which files count.
    """

    path: str | None = attrs.field(default=None, validator=_is_optional_path)
    preprocess: str = attrs.field(default="mnist")
    test_fraction: float = attrs.field(default=0.2, validator=_is_fraction)
    seed: int = attrs.field(default=0, validator=_is_seed)
    cache: bool = attrs.field(default=True, validator=_is_bool)

    @preprocess.validator
    def _check_preprocess(self, attribute: attrs.Attribute[str], value: object) -> None:
        if value not in ("mnist", "resize"):
            raise DatasetError(f"preprocess must be 'mnist' or 'resize'. Received: preprocess={value!r}")

    def get_config(self) -> Config:
        return attrs.asdict(self)

    @classmethod
    def from_config(cls, config: Config) -> PngFolder:
        return _from_config(cls, config)

    def load(self, data_dir: Path | None = None, download: bool = True) -> Dataset:
        """Decode every image under the folder (``data_dir``, when given, replaces ``path``; nothing is downloaded)."""
        root = _location(self.path, data_dir, "image folder")
        cache = DecodedCache() if self.cache else None
        center = self.preprocess == "mnist"
        splits = find_splits(root)
        listings = [scan(folder) for folder in splits] if splits else [scan(root)]
        class_names = class_names_for([name for listing in listings for name in listing.class_of_file])
        parts = [(load_listing(listing, center, cache), labels_for(listing.class_of_file, class_names))
                 for listing in listings]  # fmt: skip
        if splits:
            (train_images, train_labels), (test_images, test_labels) = parts
        else:
            train_images, train_labels, test_images, test_labels = _hold_out(
                *parts[0], self.test_fraction, self.seed, root
            )
        return Dataset(
            "png-folder", train_images, train_labels, test_images, test_labels, class_names, test_held_out=not splits
        )


@attrs.frozen
class CsvFile:
    """Labelled images in CSV, one per row: ``label,pixel0,pixel1,...`` (Kaggle's digit layout).

    A header row is detected and skipped; pixels may be 0..255 or 0..1. The test set is ``test_path``
    when given, else a seeded random ``test_fraction`` of ``path``. A ``data_dir`` that is a file replaces
    ``path``; one that is a folder holds the files named by ``path`` and ``test_path`` (``train.csv``
    when ``path`` is unset).
    """

    path: str | None = attrs.field(default=None, validator=_is_optional_path)
    test_path: str | None = attrs.field(default=None, validator=_is_optional_path)
    test_fraction: float = attrs.field(default=0.2, validator=_is_fraction)
    seed: int = attrs.field(default=0, validator=_is_seed)

    def get_config(self) -> Config:
        return attrs.asdict(self)

    @classmethod
    def from_config(cls, config: Config) -> CsvFile:
        return _from_config(cls, config)

    def _paths(self, data_dir: Path | None) -> tuple[Path, Path | None]:
        test = None if self.test_path is None else Path(self.test_path).expanduser()
        if data_dir is None or Path(data_dir).is_file():
            return _location(self.path, data_dir, "CSV file"), test
        folder = Path(data_dir)
        train = folder / (Path(self.path).name if self.path else "train.csv")
        return train, None if test is None else folder / test.name

    def load(self, data_dir: Path | None = None, download: bool = True) -> Dataset:
        """Parse the CSV file(s) (``download`` is ignored: the files are local)."""
        train_path, test_path = self._paths(data_dir)
        images, labels = read_csv(train_path)
        if test_path is not None:
            test_images, test_labels = read_csv(test_path)
            if test_images.shape[1] != images.shape[1]:
                raise DatasetError(
                    f"{test_path} has {test_images.shape[1]} pixels per row but {train_path} has {images.shape[1]}"
                )
            train_images, train_labels = images, labels
        else:
            train_images, train_labels, test_images, test_labels = _hold_out(
                images, labels, self.test_fraction, self.seed, train_path
            )
        largest = int(max(train_labels.max(), test_labels.max()))
        class_names = tuple(str(label) for label in range(largest + 1))
        shape = image_shape_for(images.shape[1])
        return Dataset(
            "csv", train_images, train_labels, test_images, test_labels, class_names, shape, test_path is None
        )
