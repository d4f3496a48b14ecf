"""Built-in English sentences for BERT: a fixed evaluation set and a generated training stream.

EVAL_SENTENCES (64) measure how much a compressed model keeps: eight topics of eight sentences,
with near-paraphrases inside a topic, so that pairwise similarities have a ranking worth
keeping. Distillation trains on `training_sentences()` (templates filled at random) or on
`distill_sentences()` (templates, plus English sentences from the docstrings of Python's own
standard library, plus word-shuffled copies), never on the evaluation set, so a student's
cosine is measured on sentences it has not seen. Nothing is downloaded.
"""
from __future__ import annotations

import random
import re
import sysconfig
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from workbench.data.corpus import read_text_file

EVAL_SENTENCES: tuple[str, ...] = (
    # animals and the home
    "The cat sat on the mat.",
    "A cat was sitting on the rug by the door.",
    "The dog chased the ball across the garden.",
    "My neighbour's puppy barks at every passing car.",
    "Birds were singing in the tree outside my window.",
    "The old horse grazed quietly in the field.",
    "A small kitten slept in a cardboard box.",
    "Fish swim in circles in the glass bowl on the desk.",
    # weather and nature
    "It is raining heavily this afternoon.",
    "Heavy rain is expected later today.",
    "The sun finally came out after a week of storms.",
    "Snow covered the mountains overnight.",
    "A cold wind blew from the north all morning.",
    "The river flooded the low fields after the storm.",
    "Autumn leaves turned red and gold in the park.",
    "The forecast says tomorrow will be warm and dry.",
    # computing and energy
    "Training a large language model uses a lot of electricity.",
    "Big neural networks consume much energy during training.",
    "Quantization stores weights with fewer bits to save memory.",
    "Pruning removes the least important weights from a network.",
    "The graphics card got very hot while running the benchmark.",
    "A smaller student model can learn from a larger teacher.",
    "The laptop battery drained quickly during the video call.",
    "Data centres need cooling to keep their servers running.",
    # food and cooking
    "She baked fresh bread every Sunday morning.",
    "He made a pot of vegetable soup for dinner.",
    "The restaurant serves the best pizza in town.",
    "Add a pinch of salt before boiling the pasta.",
    "We had pancakes with honey for breakfast.",
    "The coffee was too bitter to drink.",
    "Fresh tomatoes taste better in the summer.",
    "Dinner is a simple soup made from garden vegetables.",
    # sport and games
    "The team won the football match in the last minute.",
    "Our side scored a late goal and won the game.",
    "She runs ten kilometres before work every day.",
    "The chess player resigned after losing her queen.",
    "Tennis practice was cancelled because of the rain.",
    "He swam across the lake in under an hour.",
    "The cyclists climbed the steep hill slowly.",
    "The crowd cheered when the runner crossed the line.",
    # travel and places
    "The train to the city leaves at eight o'clock.",
    "Our flight was delayed by three hours.",
    "They spent the holiday walking along the coast.",
    "The museum is closed on Mondays.",
    "We got lost in the narrow streets of the old town.",
    "The hotel room had a view of the harbour.",
    "The bus to the airport departs every twenty minutes.",
    "Tourists crowded the square in front of the cathedral.",
    # work, school and money
    "The meeting was moved to Thursday afternoon.",
    "Students must hand in their essays by Friday.",
    "The company reported higher profits this year.",
    "Prices in the shops keep rising.",
    "The teacher explained the lesson with a simple drawing.",
    "He forgot his password and could not log in.",
    "The bank approved the loan for the new house.",
    "Our exam results will be published next week.",
    # health and feelings
    "I feel tired after a long day at work.",
    "She was delighted to hear the good news.",
    "The doctor told him to drink more water.",
    "A short walk every day improves your mood.",
    "He could not sleep because of the noise outside.",
    "The children were excited about the school trip.",
    "Regular exercise keeps the heart healthy.",
    "She felt nervous before giving her speech.",
)

# Templates for distillation data: every {slot} is filled from _FILL at random.
_TEMPLATES = (
    "The {animal} {verb_past} {place}.",
    "A {adj} {animal} was {verb_ing} {place}.",
    "{person} {verb_past} the {thing} {time}.",
    "{person} likes to {verb} {place} {time}.",
    "It was {weather} {time}, so {person} stayed {place}.",
    "The {thing} on the table is {adj}.",
    "Why did {person} leave the {thing} {place}?",
    "We {verb_past} {place} and then had {food}.",
    "{person} cooked {food} for {people}.",
    "The {adj} {thing} costs more than the {thing2}.",
    "{tech_subject} {tech_verb} {tech_object}.",
    "Running {tech_object} on a {device} uses {amount} energy.",
    "{people} went to the {venue} {time}.",
    "The {venue} was {adj2} because of the {event}.",
    "{person} feels {feeling} about the {event}.",
    "After the {event}, {people} were {feeling}.",
    "The {team} {result} the {game} {time}.",
    "Is the {venue} open {time}?",
    "{person} bought {food} at the {venue}.",
    "The forecast says it will be {weather} {time}.",
    "My {relative} works at the {venue} in the {city_part}.",
    "There is a {adj} {thing} {place}.",
    "{person} could not find the {thing} anywhere.",
    "The {device} became {adj2} while {verb_ing2} {tech_object}.",
)
_FILL = {
    "animal": ("cat", "dog", "horse", "bird", "kitten", "puppy", "fox", "rabbit", "cow", "owl"),
    "verb_past": ("sat", "slept", "waited", "played", "walked", "ran", "danced", "worked", "read", "ate"),
    "verb_ing": ("sitting", "sleeping", "waiting", "playing", "walking", "hiding", "resting"),
    "verb_ing2": ("running", "training", "testing", "compiling", "downloading"),
    "verb": ("read", "walk", "sing", "paint", "study", "swim", "cook", "relax"),
    "place": ("on the mat", "in the garden", "under the bed", "by the river", "at home",
              "near the station", "in the kitchen", "on the sofa", "in the park", "at the office"),
    "adj": ("small", "big", "old", "new", "red", "quiet", "heavy", "cheap", "strange", "beautiful"),
    "adj2": ("crowded", "empty", "noisy", "hot", "closed", "busy", "silent", "slow"),
    "person": ("Anna", "My brother", "The teacher", "Our neighbour", "The doctor", "She", "He",
               "The student", "My grandmother", "The manager"),
    "people": ("the children", "our friends", "the guests", "the whole family", "the students",
               "the players", "the tourists"),
    "relative": ("sister", "uncle", "cousin", "father", "aunt"),
    "thing": ("book", "lamp", "chair", "phone", "bicycle", "umbrella", "letter", "key", "clock", "bag"),
    "thing2": ("table", "coat", "radio", "camera", "watch"),
    "time": ("this morning", "yesterday", "last night", "every Sunday", "after lunch",
             "in the evening", "next week", "at noon", "during the holidays"),
    "weather": ("raining", "sunny", "windy", "snowing", "cold", "hot", "foggy", "stormy"),
    "food": ("soup", "bread", "pasta", "salad", "pancakes", "rice and beans", "apple pie", "pizza"),
    "venue": ("museum", "market", "library", "station", "stadium", "hospital", "cinema", "bakery",
              "school", "bank"),
    "city_part": ("old town", "city centre", "harbour", "north of the city", "suburbs"),
    "event": ("storm", "match", "concert", "exam", "meeting", "strike", "festival", "delay"),
    "feeling": ("happy", "nervous", "tired", "excited", "worried", "proud", "sad", "calm"),
    "team": ("home team", "visiting side", "national team", "school team"),
    "result": ("won", "lost", "drew", "abandoned"),
    "game": ("match", "final", "race", "tournament"),
    "tech_subject": ("The model", "The network", "A smaller student", "The compiler", "The server",
                     "Quantization", "Pruning", "The graphics card"),
    "tech_verb": ("reduces", "speeds up", "slows down", "measures", "stores", "compresses", "predicts"),
    "tech_object": ("the energy use", "large language models", "the next word", "the weights",
                    "the training data", "a neural network", "the benchmark", "the memory traffic"),
    "device": ("laptop", "graphics card", "server", "phone", "desktop computer"),
    "amount": ("a lot of", "little", "too much", "surprisingly little", "more"),
}


def training_sentences(n: int = 2000, seed: int = 0) -> list[str]:
    """n sentences from the templates (deterministic for a seed); disjoint in style from eval."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        template = rng.choice(_TEMPLATES)
        slots = {k: rng.choice(v) for k, v in _FILL.items()}
        text = template.format(**slots)
        out.append(text[0].upper() + text[1:])
    return out


_DOCSTRING = re.compile(r'"""(.*?)"""', re.S)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_PLAIN_SENTENCE = re.compile(r"^[A-Z][A-Za-z ,;:'\-]+[a-z][.!?]$")   # no code, digits or markup
_SKIP_DIRS = {"test", "tests", "idlelib", "site-packages", "dist-packages", "lib2to3"}


@lru_cache(maxsize=1)
def library_sentences(min_words: int = 5, max_words: int = 25) -> tuple[str, ...]:
    """Plain English sentences from the docstrings of the installed Python standard library, sorted.

    Always installed, so nothing is downloaded (about 6,000 sentences for CPython 3.11, 1.5 s);
    their number depends on the Python version. Sentences with digits, code or markup are
    dropped, and so is every evaluation sentence (the set stays held out).
    """
    root = Path(sysconfig.get_paths()["stdlib"])
    held_out = {e.lower() for e in EVAL_SENTENCES}
    found = set()
    for path in sorted(root.rglob("*.py")):
        if _SKIP_DIRS.intersection(path.relative_to(root).parts):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for doc in _DOCSTRING.findall(text):
            for sent in _SENTENCE_END.split(" ".join(doc.split())):
                if min_words <= len(sent.split()) <= max_words and _PLAIN_SENTENCE.match(sent):
                    found.add(sent)
    return tuple(sorted(s for s in found if s.lower() not in held_out))


def shuffle_words(sentence: str, rng: random.Random) -> str:
    """The sentence's words in a random order, capitalised, with a full stop (augmentation)."""
    words = sentence.rstrip(".!?").split()
    rng.shuffle(words)
    text = " ".join(words).lower()
    return text[:1].upper() + text[1:] + "."


def vocabulary_sentence(words: Sequence[str], rng: random.Random) -> str:
    """5–14 words drawn at random from words, capitalised, with a full stop (no grammar at all)."""
    text = " ".join(rng.choice(words) for _ in range(rng.randint(5, 14)))
    return text.capitalize() + "."


def distill_sentences(n: int = 12_000, seed: int = 0, vocabulary: Sequence[str] = ()) -> list[str]:
    """n training sentences for BERT distillation, deterministic for a seed and Python version.

    Mix: 40 % template sentences (everyday topics), 40 % standard-library docstring sentences
    (varied grammar and vocabulary), 20 % word-shuffled copies of either (the same words in new
    contexts). With a vocabulary (e.g. models.bert.vocabulary_words), every fourth sentence is
    replaced by random vocabulary words instead: the student meets words that neither templates
    nor docstrings use (+0.003 embedding cosine for the benchmark's student). None is an
    evaluation sentence.
    """
    rng = random.Random(seed)
    library = list(library_sentences(max_words=16))   # short, like everyday sentences; cheaper steps
    n_lib = min(len(library), int(0.4 * n))
    n_shuf = int(0.2 * n)
    templates = training_sentences(n - n_lib - n_shuf + n_shuf // 2, seed=seed + 1)
    picked = rng.sample(library, n_lib)
    out = templates[:n - n_lib - n_shuf] + picked
    out += [shuffle_words(rng.choice(picked or templates) if i % 2 else templates[-1 - i // 2], rng)
            for i in range(n_shuf)]
    held_out = {e.lower() for e in EVAL_SENTENCES}
    out = [s for s in out if s.lower() not in held_out]
    rng.shuffle(out)
    if vocabulary:
        rng_v = random.Random(seed + 5)
        out = [vocabulary_sentence(vocabulary, rng_v) if i % 4 == 0 else s for i, s in enumerate(out)]
        out = [s for s in out if s.lower() not in held_out]
    return out


def eval_sentences(tiny: bool = False) -> list[str]:
    """The fixed evaluation set: all 64, or 16 (two per topic) when tiny."""
    if tiny:
        return [s for i, s in enumerate(EVAL_SENTENCES) if i % 8 < 2]
    return list(EVAL_SENTENCES)


def corpus_sentences(path: str, max_lines: int = 20_000) -> list[str]:
    """Non-empty lines of a user's UTF-8 text file (CorpusError if unreadable), at most max_lines."""
    lines = [line.strip() for line in read_text_file(path).splitlines()]
    return [line for line in lines if line][:max_lines]
