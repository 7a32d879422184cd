"""The model options every model command shares (--arch or your own --model, its --weights,
class names and preprocessing) and what they name: the classifier, its input images, their
targets and the class names, the same for every command."""

from pathlib import Path

from convlens.cli.options import MAX_SIDE, add_device, amount, batch_size, count, runtime_of


def add_model(p, default_arch: str = "vgg16", names_flag: str = "--classes") -> None:
    """The model options; `names_flag` spells the class-names file's option (class-viz's
    --classes are class ids, so there it is --class-names)."""
    g = p.add_argument_group("model")
    g.add_argument(
        "--weights",
        default=None,
        help="weights file (.pth/.safetensors), a known name (vgg16, vgg11_bn, ...), or "
        "'random' for seeded random weights; default: torchvision's checkpoint for --arch",
    )
    g.add_argument("--arch", default=default_arch, help=f"architecture (default {default_arch})")
    add_user_model(g, names_flag)
    add_device(g)
    g.add_argument(
        "--batch-size", type=batch_size, default=16, help="images per batch (default 16)"
    )


def add_user_model(g, names_flag: str = "--classes") -> None:
    """A user's own classifier: --model, its class names (`names_flag`) and preprocessing."""
    g.add_argument(
        "--model",
        default=None,
        metavar="MODULE:FUNCTION",
        help="your own classifier instead of --arch: a function returning an nn.Module, as "
        "package.module:build or path/to/file.py:build (its code runs); --weights loads into it",
    )
    g.add_argument(
        names_flag,
        dest="class_names",
        type=Path,
        default=None,
        metavar="FILE",
        help="class names, one a line (default: ImageNet's for --arch, class ids for --model)",
    )
    g.add_argument(
        "--input-size",
        type=count(32, MAX_SIDE, "pixels"),
        default=224,
        help="the side of the model's square input (default 224)",
    )
    g.add_argument(
        "--mean",
        type=amount(1.0, zero=True),
        nargs=3,
        default=None,
        metavar=("R", "G", "B"),
        help="per-channel mean (pixels in 0-1) the model was trained with (default ImageNet's)",
    )
    g.add_argument(
        "--std",
        type=amount(1.0),
        nargs=3,
        default=None,
        metavar=("R", "G", "B"),
        help="per-channel std the model was trained with (default ImageNet's)",
    )


def model_from(args):
    """The classifier that add_model's options name, on its device; the global generators are
    seeded with --seed here, at the command's entry (convlens.seeding's rule)."""
    from convlens.models.pretrained import load_classifier
    from convlens.runtime import resolve_device
    from convlens.seeding import seed_everything

    seed_everything(args.seed)
    if getattr(args, "model", None):
        model = user_classifier(args.model, args.weights, device=args.device)
    else:
        model = load_classifier(
            args.arch, args.weights, seed=args.seed, device=args.device, precision=args.precision
        )
    return model.to(resolve_device(args.device))


def user_classifier(spec: str, weights: str | None, device: str = "auto"):
    """--model's network, with --weights loaded strictly (or its own initial weights with
    --weights random or none)."""
    from convlens.models import user_model
    from convlens.runtime import resolve_device

    resolve_device(device)  # refused before the user's code runs
    return user_model.user_classifier(spec, weights)


def preprocessing_of(args):
    """How the command's images become the model's input (--input-size, --mean, --std)."""
    from convlens.data.transforms import IMAGENET_MEAN, IMAGENET_STD
    from convlens.models.user_model import Preprocessing

    return Preprocessing(
        getattr(args, "input_size", 224),
        tuple(args.mean) if getattr(args, "mean", None) else IMAGENET_MEAN,
        tuple(args.std) if getattr(args, "std", None) else IMAGENET_STD,
    )


def images_of(args, items, device=None):
    """The command's images as the model's input (preprocessing_of), on `device`, and the
    function that turns them back into displayable pixels for figures."""
    from convlens.data.transforms import denormalize
    from convlens.predict import load_batch

    prep = preprocessing_of(args)
    x = load_batch(items, prep)
    return (x if device is None else x.to(device)), (lambda t: denormalize(t, prep.mean, prep.std))


def targets_of(args, model, x):
    """--target for every image, or the class the model predicts for each (in fp32, on the
    images' device): the classes the maps of a command explain."""
    import torch

    from convlens.predict import predict_logits

    if getattr(args, "target", None) is not None:
        return torch.full((len(x),), args.target, device=x.device)
    where = runtime_of(args).but(precision="fp32")
    logits = predict_logits(model, x, batch_size=args.batch_size, runtime=where)
    return logits.argmax(1).to(x.device)


def class_names_of(args, model) -> list[str]:
    """--classes (its count checked against the model), ImageNet's names for --arch, or the
    class ids of a --model."""
    from convlens.data import imagenet_classes
    from convlens.models.user_model import user_class_names

    path = getattr(args, "class_names", None)
    if path is not None or getattr(args, "model", None):
        return user_class_names(model, getattr(args, "input_size", 224), path)
    return list(imagenet_classes().names)
