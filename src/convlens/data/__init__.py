"""Data: ImageNet metadata, preprocessing, and loaders for the exam's folders and zips."""

from convlens.data.imagenet import ImageNetClasses, imagenet_classes
from convlens.data.images import ImageItem, list_image_files, read_image
from convlens.data.problem2 import Problem2, image_folder, load_problem2
from convlens.data.transforms import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    denormalize,
    preprocess,
    preprocess_batch,
)

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "ImageItem",
    "ImageNetClasses",
    "Problem2",
    "denormalize",
    "image_folder",
    "imagenet_classes",
    "list_image_files",
    "load_problem2",
    "preprocess",
    "preprocess_batch",
    "read_image",
]
