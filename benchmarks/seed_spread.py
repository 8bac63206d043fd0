"""Seed study: how far the seed alone moves the series' test accuracy.

    python benchmarks/seed_spread.py --json build/seed_spread.json  # seeds 1-10: about 75 minutes here
    python benchmarks/seed_spread.py --short                        # 1 epoch on a subset

Trains each recipe through the series' path (recipe_training.train, the precision that
helpers.choose_precision() picks) once per seed; the seed sets the starting
weights, the dropout masks and the order of the shuffled batches, and nothing
else changes. For every run it records the test accuracy and loss, the test
accuracy after each epoch, and the test accuracy of the same trained weights
evaluated in float32, to show what bfloat16 inference costs, if anything.
Prints one line per run and a summary per recipe against the write-up's
published accuracy, and writes everything as JSON (after every run, so an
interrupted study keeps what it measured).
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import TYPE_CHECKING

from reporting import (  # benchmarks/reporting.py, beside this script
    RECIPE_NAMES,
    add_epochs_option,
    add_json_option,
    add_recipes_option,
    add_short_option,
    markdown_table,
    mnist_splits,
    new_parser,
    refuse_epochs_below_one,
    refuse_negative_seeds,
    save_final,
    save_progress,
    utc_now,
)

if TYPE_CHECKING:  # imported lazily at run time, after argument checks, because TensorFlow is slow to load
    import keras

    from helpers.preprocess import PreparedSplit
    from helpers.recipes import Recipe

COLUMNS = ("recipe", "seeds", "mean", "std", "min", "max", "at or above published", "published")


def float32_accuracy(recipe: Recipe, model: keras.Model, test: PreparedSplit) -> float:
    """Test accuracy of the trained weights in a float32 copy of the network."""
    from lesson_networks import build

    import helpers

    twin = helpers.compile_with_adadelta(build(recipe.name, "float32"))
    twin.set_weights(model.get_weights())
    return float(twin.evaluate(test.images, test.targets, batch_size=1000, verbose=0)[1])


def train_with_seed(
    recipe_name: str, seed: int, train: PreparedSplit, test: PreparedSplit, epochs: int | None
) -> dict:
    """Train one recipe with one seed, exactly as notebooks 03 and 04 do, and measure it."""
    import keras
    import recipe_training
    from lesson_networks import build, lesson_recipe

    import helpers

    recipe = lesson_recipe(recipe_name)
    keras.backend.clear_session()
    helpers.seed_everything(seed)
    model = build(recipe_name, helpers.choose_precision().policy)
    helpers.compile_with_adadelta(model, learning_rate=recipe.learning_rate)
    started = time.perf_counter()
    run = recipe_training.train(
        recipe, model, train, test, epochs=epochs or recipe.epochs, seed=seed, verbose=0
    )
    return {
        "recipe": recipe_name,
        "seed": seed,
        "precision": run.info["dtype_policy"],
        "epochs": run.info["epochs"],
        "training_images": len(train.images),
        "test_accuracy": run.test_accuracy,
        "test_loss": run.test_loss,
        "float32_inference_accuracy": float32_accuracy(recipe, model, test),
        "test_accuracy_per_epoch": [round(a, 4) for a in run.history["val_accuracy"]],
        "minutes": round((time.perf_counter() - started) / 60, 2),
    }


def summary(runs: list[dict], published: dict[str, float]) -> str:
    """One table row per recipe: the spread of test accuracy over the seeds."""
    rows = []
    for recipe in RECIPE_NAMES:
        accuracies = [r["test_accuracy"] for r in runs if r["recipe"] == recipe]
        if not accuracies:
            continue
        spread = statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0
        reached = sum(a >= published[recipe] - 5e-6 for a in accuracies)  # accuracies are k / 10,000
        rows.append(
            [
                recipe,
                len(accuracies),
                f"{statistics.mean(accuracies):.4f}",
                f"{spread:.4f}",
                f"{min(accuracies):.4f}",
                f"{max(accuracies):.4f}",
                f"{reached} of {len(accuracies)}",
                f"{published[recipe]:.4f}",
            ]
        )
    return markdown_table(COLUMNS, rows)


def main() -> int:
    parser = new_parser(__doc__)
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=list(range(1, 11)), help="seeds to try (default 1-10)"
    )
    add_recipes_option(parser)
    add_epochs_option(parser)
    add_short_option(parser)
    add_json_option(parser, "write the runs and the summary here")
    args = parser.parse_args()
    refuse_epochs_below_one(parser, args.epochs)
    refuse_negative_seeds(parser, args.seeds, "--seeds")

    import helpers

    train, test = mnist_splits(args.short)
    epochs = 1 if args.short else args.epochs
    published = {r.name: r.published_accuracy for r in (helpers.SEQUENTIAL, helpers.FUNCTIONAL)}

    report = {"date": utc_now(), "short": args.short, "runs": []}
    for seed in args.seeds:
        for recipe in args.recipes:
            run = train_with_seed(recipe, seed, train, test, epochs)
            report["runs"].append(run)
            print(
                f"{recipe:<10} seed {seed:>3}: test accuracy {run['test_accuracy']:.4f} "
                f"(float32 inference {run['float32_inference_accuracy']:.4f}), loss {run['test_loss']:.4f}, "
                f"{run['minutes']:.1f} min",
                flush=True,
            )
            save_progress(args.json, report)
    report["summary"] = summary(report["runs"], published)
    print("\n" + report["summary"])
    save_final(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
