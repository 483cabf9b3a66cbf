"""
==================================================
Topics in documents with the Kullback-Leibler loss
==================================================

A collection of documents as a matrix of word counts is non-negative and
sparse, and a document is, roughly, a mixture of a few topics. NMF with the
generalized Kullback-Leibler loss, the maximum-likelihood fit of a Poisson
model of the counts, finds the topics as groups of words (the rows of
:math:`H`) and how much of each topic every document holds (the rows of
:math:`W`). As a clusterer, :class:`~sknmfcluster.NMFClusterer` with
``method="nmf"`` then puts each document with its dominant topic.

The corpus must be available offline, and the usual text data sets
(20 newsgroups, for instance) need a download. So the documents here are the
**docstrings of SciPy's public functions**, which are installed with SciPy, a
dependency of this package: each function's summary, description,
parameters and returns (the examples, notes and references are cut off, as
they name the subpackage outright). The subpackage a function belongs to,
say :mod:`scipy.linalg` or :mod:`scipy.stats`, is its known "class", which
lets us score the clustering. The exact documents depend on the installed
SciPy version, and so do the numbers on this page.
"""

# %%
# Build the corpus
# ----------------
import inspect
import re

import numpy as np
import scipy.linalg
import scipy.ndimage
import scipy.optimize
import scipy.signal
import scipy.special
import scipy.stats

subpackages = {
    "linalg": scipy.linalg,
    "ndimage": scipy.ndimage,
    "optimize": scipy.optimize,
    "signal": scipy.signal,
    "special": scipy.special,
    "stats": scipy.stats,
}
# Sections that name the subpackage (code examples, "see also" lists) or are
# boilerplate shared by many functions (array API support tables).
CUT = re.compile(r"\n(?:Examples|See Also|References|Notes)\n-+\n|\*\*Array API")


def documents_of(module):
    for name in sorted(getattr(module, "__all__", dir(module))):
        obj = getattr(module, name, None)
        is_function = inspect.isfunction(obj) or type(obj).__name__ == "ufunc"
        if name.startswith("_") or not is_function:
            continue
        doc = inspect.getdoc(obj) or ""
        if len(doc) >= 300:  # skip stubs and aliases
            yield CUT.split(doc)[0]


documents, subpackage = [], []
for label, module in subpackages.items():
    docs = list(documents_of(module))
    documents += docs
    subpackage += [label] * len(docs)
    print(f"scipy.{label:9s} {len(docs):4d} documents")
subpackage = np.array(subpackage)

# %%
# Bag of words
# ------------
# Counts of the words that occur in at least 3 documents and in at most 30%
# of them (very common words say nothing about the topic), English stop words
# removed. The matrix stays sparse all the way through the fit.
from sklearn.feature_extraction.text import CountVectorizer

vectorizer = CountVectorizer(stop_words="english", min_df=3, max_df=0.3,
                             token_pattern=r"(?u)\b[a-zA-Z]{3,}\b")
counts = vectorizer.fit_transform(documents)
words = vectorizer.get_feature_names_out()
print(f"{counts.shape[0]} documents, {counts.shape[1]} words, "
      f"{counts.nnz / np.prod(counts.shape):.1%} of the counts non-zero")

# %%
# Fit six topics with the Kullback-Leibler loss
# ---------------------------------------------
# ``method="nmf"`` factorises the counts themselves, which is what gives
# topics. The default method of :class:`~sknmfcluster.NMFClusterer`
# clusters through a graph of nearest documents instead, and its components
# are then one prototype per cluster rather than topics
# (:ref:`clustering_methods`).
from sknmfcluster import NMFClusterer

model = NMFClusterer(n_clusters=len(subpackages), method="nmf",
                     beta_loss="kullback-leibler", random_state=0, max_iter=300)
labels = model.fit_predict(counts)
print(f"converged in {model.n_iter_} iterations")

# %%
# The top words of each topic
# ---------------------------
# The largest entries of each row of :math:`H`, with the subpackage that most
# of the topic's documents come from.
for topic, h in enumerate(model.components_):
    top = words[np.argsort(h)[::-1][:10]]
    members = subpackage[labels == topic]
    if members.size:
        names, sizes = np.unique(members, return_counts=True)
        majority = f"{names[sizes.argmax()]} ({sizes.max()}/{members.size})"
    else:
        majority = "-"
    print(f"topic {topic}, mostly {majority}:\n    {' '.join(top)}")

# %%
# The topics are recognisable without looking at the labels: statistical tests
# and distributions, optimisation with callables and bounds, matrix algebra,
# filters and frequencies, image filters with boundary modes, and special
# functions (whose ufunc docstrings share the words of NumPy's ufunc
# signature, such as ``dtype`` and ``subok``).
#
# The clusters against the subpackages
# ------------------------------------
import matplotlib.pyplot as plt
from sklearn.metrics import adjusted_rand_score
from sklearn.metrics.cluster import contingency_matrix

from sknmfcluster import clustering_accuracy

print(f"clustering accuracy: {clustering_accuracy(subpackage, labels):.3f}")
print(f"adjusted Rand index: {adjusted_rand_score(subpackage, labels):.3f}")

table = contingency_matrix(subpackage, labels)
fig, ax = plt.subplots(figsize=(6, 4))
image = ax.imshow(table, cmap="Blues")
ax.set_xticks(range(table.shape[1]), [f"topic {t}" for t in np.unique(labels)],
              rotation=45, ha="right")
ax.set_yticks(range(table.shape[0]), [f"scipy.{name}" for name in np.unique(subpackage)])
for (i, j), n in np.ndenumerate(table):
    ax.text(j, i, n, ha="center", va="center", fontsize=8,
            color="white" if n > table.max() / 2 else "black")
ax.set_title("Documents per subpackage and topic")
fig.colorbar(image, ax=ax)
fig.tight_layout()

# %%
# Most subpackages fall mainly into one topic (the numbers are from the run
# that built this page, with its SciPy version). The mistakes are
# instructive: some ``scipy.signal`` functions land in the topic of
# ``scipy.ndimage``, as both filter arrays; the measurement functions of
# ``scipy.ndimage`` (the mean, maximum... of labelled regions) land in the
# topic of ``scipy.optimize``, whose top words are the most generic; and the
# Gaussian quadrature
# functions of ``scipy.special`` ("sample points and weights") land with
# ``scipy.signal``. A clustering by dominant topic is only as good as the
# vocabulary separates the classes. When the clusters matter more than the
# topics, the default method, which groups documents through a graph of their
# nearest neighbours, was the more accurate on the synthetic corpus of the
# clustering study (:ref:`clustering_quality`); it does not give topics.
#
# A document is a mixture
# -----------------------
# The codes say more than the label. Under the Poisson model, topic :math:`j`
# contributes :math:`W_{ij} \sum_f H_{jf}` words to document :math:`i`, so
# these contributions, normalised to sum to one, give the share of each topic
# in a document.
W = model.transform(counts) * model.components_.sum(axis=1)
shares = W / W.sum(axis=1, keepdims=True)
for i in [0, int(np.flatnonzero(subpackage == "stats")[0])]:
    first_line = documents[i].splitlines()[0]
    top3 = np.argsort(shares[i])[::-1][:3]
    mix = ", ".join(f"topic {t}: {shares[i, t]:.0%}" for t in top3)
    print(f"{first_line!r} (scipy.{subpackage[i]})\n    {mix}")
