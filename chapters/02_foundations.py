# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: -all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (nlpbook)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 2 — Deep-learning foundations and optimizers
#
# Every model in this book is trained the same way: a **forward pass** computes a loss from
# the weights, a **backward pass** (backpropagation) computes the gradient of the loss with
# respect to every weight, and an **optimizer** turns the gradient into a change of the
# weights. This chapter takes the three apart on a real text task, movie-review sentiment.
# We write a neuron and a two-layer network in NumPy with the backward pass by hand and check
# it against TensorFlow's automatic differentiation; write down the update rules of SGD,
# momentum, Nesterov, Adagrad, RMSprop and Adam and check that the library's implementations
# (`nlpbook.optim`) move the weights exactly as Keras' built-ins do; watch the optimizers on
# two classic surfaces and on the text model; schedule the learning rate; and finish with
# the three ways of writing a Keras model, and with why the TensorFlow 1 code the seeds
# show no longer runs.
#
# **Seed sections mirrored** (files in `../shared/seeds/`):
#
# - `002` (NLP领域的大模型标准) 第2章 2.1 深度学习基础: 2.1.1 神经网络基础, 2.1.2 深度学习优化算法,
#   2.1.3 深度学习框架介绍
# - `002` 第3章 3.1 深度学习基础: 3.1.1 神经网络基础, 3.1.2 深度学习优化算法, 3.1.3 深度学习框架介绍
# - `004` (人工智能大模型) §3.1 深度学习基础
#
# The seeds' prose is mostly right; their pseudo-code is not. The backward pass multiplies by
# the wrong derivative, the "adaptive gradient algorithm" adapts nothing, Adam divides by
# zero on its first step and the TensorFlow example fails even on the TensorFlow it was
# written for. Each error is reproduced in code where the topic comes up and collected in
# the **Errata** box at the end.

# %% [markdown]
# ## Setup

# %%
import math
import time
import warnings

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from nlpbook import datasets, optim, results, runtime
from nlpbook.display import show_table

print(runtime.setup(seed=0))

# %% [markdown]
# Parameters: quick mode (the default, `NLPBOOK_QUICK=1`) trains for a few epochs on a
# 2,000-word vocabulary and runs in about a minute on two CPU cores; full mode
# (`NLPBOOK_QUICK=0`) uses a 10,000-word vocabulary, trains longer and runs the optimizers
# ten times longer on Rosenbrock's valley.

# %%
QUICK = runtime.quick_mode()
VOCABULARY = 2_000 if QUICK else 10_000  # bag-of-words features (most frequent words)
HIDDEN = 32  # hidden units of the small network
BATCH_SIZE = 64
NUMPY_EPOCHS = 3 if QUICK else 10  # the hand-written NumPy training loop of section 2
CURVE_EPOCHS = 4 if QUICK else 20  # Keras training under each optimizer, section 5
COMPARE_STEPS = 50  # updates compared one by one, ours against Keras (section 3.2)
ROSENBROCK_STEPS = 300 if QUICK else 3_000
BOWL_STEPS = 60

# %%
rec = results.Recorder("02_foundations")

# %% [markdown]
# ## 0. The task: sentiment of a movie-review sentence
#
# **MR** (Pang & Lee 2005): 10,662 one-sentence snippets of Rotten Tomatoes reviews, half
# positive, half negative, in fold 0 of the fixed 10-fold split of chapter 1: 9,595 training
# sentences (the last 10 % held out for validation) and 1,067 test sentences. Each sentence
# becomes a **bag of words**: a vector with one entry per word of a vocabulary of the most
# frequent training words, 1 if the word occurs in the sentence and 0 otherwise. Small,
# sparse, and enough for a network to learn something real in seconds.

# %%
mr = datasets.load_mr_polarity()
n_train = round(0.9 * len(mr["train"]["text"]))
vectorizer = keras.layers.TextVectorization(
    max_tokens=VOCABULARY, standardize="lower", output_mode="multi_hot"
)
vectorizer.adapt(mr["train"]["text"][:n_train], batch_size=1024)  # training part only


def bag_of_words(texts):
    """Multi-hot features as float32: x[i, j] = 1 if word j occurs in text i."""
    return keras.ops.convert_to_numpy(vectorizer(tf.constant(texts))).astype("float32")


x_all, y_all = bag_of_words(mr["train"]["text"]), mr["train"]["label"].astype("float32")
x_train, y_train = x_all[:n_train], y_all[:n_train]
x_val, y_val = x_all[n_train:], y_all[n_train:]
x_test, y_test = bag_of_words(mr["test"]["text"]), mr["test"]["label"].astype("float32")

majority_class = float(y_train.mean() >= 0.5)
majority_baseline = float(np.mean(y_test == majority_class))
sizes = {"train": len(x_train), "validation": len(x_val), "test": len(x_test)}
print(sizes, f"| {x_train.shape[1]:,} features, {x_train.sum(1).mean():.1f} words per sentence")
print(f"majority baseline on test: {majority_baseline:.3f}")
rec.metric("majority_baseline", majority_baseline)
rec.info(dataset="rt-polarity (MR), fold 0", sizes=sizes, features=int(x_train.shape[1]))

# %% [markdown]
# ## 1. A neuron
#
# Seed `002` 3.1.1 gives the neuron as $y = \sigma(\sum_{i=1}^{n} w_i x_i + b)$ with the
# logistic sigmoid $\sigma(z) = 1/(1+e^{-z})$: a weighted sum of the inputs, then a
# non-linearity. With one neuron on the bag of words, $y$ is the probability that the
# sentence is positive: **logistic regression**. It is trained by minimising the mean
# **binary cross-entropy** over a batch of $n$ sentences with labels $t \in \{0, 1\}$,
#
# $$L = -\frac{1}{n}\sum_k \big[t_k \log y_k + (1-t_k)\log(1-y_k)\big].$$
#
# The chain rule gives its gradient in two lines. Since $\sigma'(z) = \sigma(z)(1-\sigma(z))$,
# the derivative of the loss with respect to the pre-activation $z_k = w^\top x_k + b$ is
# simply $(y_k - t_k)/n$, and then
#
# $$\frac{\partial L}{\partial w} = \frac{1}{n}\sum_k (y_k - t_k)\,x_k, \qquad
# \frac{\partial L}{\partial b} = \frac{1}{n}\sum_k (y_k - t_k).$$
#
# Below, this is **teaching code** in NumPy, float64. The reference is a Keras `Dense(1,
# activation="sigmoid")` layer holding the same weights, differentiated by
# `tf.GradientTape`, the TensorFlow backend's automatic differentiation (on JAX it would be
# `jax.grad`, on PyTorch `loss.backward()`).


# %%
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def neuron_forward(x, w, b):
    """Teaching code: the probability of "positive", sigma(x w + b); x (n, d), w (d, 1)."""
    return sigmoid(x @ w + b)


def neuron_backward(x, y, t):
    """Teaching code: gradients of the mean binary cross-entropy; dL/dz = (y - t) / n."""
    dz = (y - t) / len(t)  # (n, 1)
    return x.T @ dz, dz.sum(axis=0)


def keras_gradients(model, x, t):
    """The reference: gradients of the same loss by tf.GradientTape (TensorFlow backend)."""
    with tf.GradientTape() as tape:
        loss = keras.ops.mean(keras.losses.binary_crossentropy(t, model(x)))
    grads = tape.gradient(loss, model.trainable_variables)
    return float(loss), [keras.ops.convert_to_numpy(g) for g in grads]


xb, tb = x_train[:BATCH_SIZE].astype("float64"), y_train[:BATCH_SIZE, None].astype("float64")
keras.utils.set_random_seed(0)
neuron = keras.Sequential(
    [
        keras.Input((VOCABULARY,), dtype="float64"),
        keras.layers.Dense(1, activation="sigmoid", dtype="float64"),
    ]
)
w, b = neuron.get_weights()  # Keras' initial weights, used by both sides
y = neuron_forward(xb, w, b)
ours = neuron_backward(xb, y, tb)
keras_loss, theirs = keras_gradients(neuron, xb, tb)
neuron_grad_diff = max(float(np.max(np.abs(a - k))) for a, k in zip(ours, theirs, strict=True))
forward_diff = float(np.max(np.abs(y - keras.ops.convert_to_numpy(neuron(xb)))))
print(f"forward: max |NumPy - Keras| = {forward_diff:.2e}")
print(f"gradient: max |NumPy - GradientTape| = {neuron_grad_diff:.2e} (float64)")
assert forward_diff < 1e-12 and neuron_grad_diff < 1e-12
rec.metric("neuron_grad_max_abs_diff", neuron_grad_diff)

# %% [markdown]
# Seed `002` 3.1.1 adds that $\sigma$ "通常取" (is usually) the sigmoid. For an *output* that
# is a probability, yes. Inside a network, no: $\sigma'(z) = \sigma(z)(1-\sigma(z))$ is at most
# 1/4, so every sigmoid layer the gradient passes back through shrinks it at least
# fourfold, and deep sigmoid networks barely learn in their first layers (vanishing
# gradients). Hidden layers use ReLU, $\max(0, z)$, whose derivative is 1 wherever the unit
# is active, or smooth variants of it such as GELU (Transformers, chapter 7).

# %%
z = np.linspace(-10, 10, 20_001)
max_sigmoid_slope = float(np.max(sigmoid(z) * (1 - sigmoid(z))))
print(
    f"max sigma'(z) = {max_sigmoid_slope:.4f}; after 10 sigmoid layers at most",
    f"{max_sigmoid_slope**10:.1e} of the gradient is left",
)
assert abs(max_sigmoid_slope - 0.25) < 1e-9

# %% [markdown]
# ## 2. A small network and backpropagation by hand
#
# Two layers: $h = \mathrm{relu}(x W_1 + b_1)$ with 32 hidden units, then
# $y = \sigma(h W_2 + b_2)$. The backward pass runs the chain rule from the loss back to the
# input, layer by layer. Write $\delta_\ell = \partial L / \partial z_\ell$ for the gradient
# at layer $\ell$'s pre-activation $z_\ell$ and $a_{\ell-1}$ for the layer's input. Then
#
# $$\frac{\partial L}{\partial W_\ell} = a_{\ell-1}^\top \delta_\ell, \qquad
# \frac{\partial L}{\partial b_\ell} = \textstyle\sum_k \delta_{\ell,k}, \qquad
# \delta_{\ell-1} = (\delta_\ell W_\ell^\top) \odot f'_{\ell-1}(z_{\ell-1}).$$
#
# The last equation is the one to watch: the error is sent back through the weights and then
# multiplied by the derivative of the **previous** layer's activation, at the previous
# layer's pre-activation. The forward pass keeps $x, z_1, h, z_2$ for the backward pass
# (that cache is why training needs more memory than inference).


# %%
class NumpyMLP:
    """Teaching code: x -> relu(x W1 + b1) -> sigmoid(h W2 + b2), backward pass by hand."""

    def __init__(self, weights):
        self.weights = [np.array(w, dtype="float64") for w in weights]  # W1, b1, W2, b2

    def forward(self, x):
        w1, b1, w2, b2 = self.weights
        z1 = x @ w1 + b1  # (n, hidden)
        h = np.maximum(z1, 0.0)
        z2 = h @ w2 + b2  # (n, 1)
        return sigmoid(z2), (x, z1, h, z2)

    @staticmethod
    def loss(z2, t):
        """Mean binary cross-entropy from the logit: log(1 + e^z) - t z, without overflow."""
        return float(np.mean(np.logaddexp(0.0, z2) - t * z2))

    def backward(self, cache, y, t):
        x, z1, h, _ = cache
        w2 = self.weights[2]
        delta2 = (y - t) / len(t)  # (n, 1): dL/dz2
        delta1 = (delta2 @ w2.T) * (z1 > 0)  # (n, hidden): relu'(z1), the previous layer's
        return [x.T @ delta1, delta1.sum(0), h.T @ delta2, delta2.sum(0)]


def keras_mlp(dtype="float32", seed=0):
    """The same network in Keras (Sequential API)."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((VOCABULARY,), dtype=dtype),
            keras.layers.Dense(HIDDEN, activation="relu", dtype=dtype),
            keras.layers.Dense(1, activation="sigmoid", dtype=dtype),
        ],
        name="mlp",
    )


reference = keras_mlp("float64")
mlp = NumpyMLP(reference.get_weights())
y, cache = mlp.forward(xb)
grads = mlp.backward(cache, y, tb)
keras_loss, keras_grads = keras_gradients(reference, xb, tb)
rows, mlp_grad_diff = [], 0.0
for name, ours_g, theirs_g in zip(["W1", "b1", "W2", "b2"], grads, keras_grads, strict=True):
    diff = float(np.max(np.abs(ours_g - theirs_g)))
    mlp_grad_diff = max(mlp_grad_diff, diff)
    rows.append([name, str(ours_g.shape), f"{np.max(np.abs(theirs_g)):.3g}", f"{diff:.1e}"])
show_table(["weight", "shape", "max |gradient|", "max |NumPy - GradientTape|"], rows)
print(f"loss: NumPy {mlp.loss(cache[3], tb):.10f}, Keras {keras_loss:.10f}")
assert abs(mlp.loss(cache[3], tb) - keras_loss) < 1e-12
assert mlp_grad_diff < 1e-12
rec.metric("mlp_grad_max_abs_diff", mlp_grad_diff)

# %% [markdown]
# ### 2.1 The seed's backward pass
#
# Seed `002` 2.1.1 gives this backward step for one layer (verbatim, with its activation's
# derivative passed in so that it runs):


# %%
def seed_backward(a, z, weights, delta, activation_derivative):
    """002 2.1.1's backward step, verbatim except that activation_derivative is passed in."""
    dz = activation_derivative(z)
    dw = np.dot(a.T, delta)
    delta = np.dot(delta, weights.T) * dz
    return dw, delta


# %% [markdown]
# With `a` the layer's input, `z` its pre-activation and `delta` $= \partial L/\partial z$,
# `dw` is right, but the `delta` it returns is multiplied by the derivative at **this**
# layer's `z`, where the rule above needs the previous layer's. For our output layer that
# is $\sigma'(z_2)$, of shape (n, 1), instead of $\mathrm{relu}'(z_1)$, of shape (n, 32).
# A shape error would have caught it; NumPy broadcasting multiplies (n, 32) by (n, 1)
# without complaint, and the gradient of $W_1$ comes out wrong:


# %%
def sigmoid_derivative(z):
    return sigmoid(z) * (1 - sigmoid(z))


x_in, z1, h, z2 = cache
# the output layer: input h, pre-activation z2, weights W2, delta = dL/dz2
seed_dw2, seed_delta1 = seed_backward(h, z2, mlp.weights[2], (y - tb) / len(tb), sigmoid_derivative)
seed_dw1 = x_in.T @ seed_delta1
seed_w1_relative_error = float(np.linalg.norm(seed_dw1 - grads[0]) / np.linalg.norm(grads[0]))
print(f"dW2: max |seed - correct| = {np.max(np.abs(seed_dw2 - grads[2])):.1e} (right)")
print(f"dW1: relative error of the seed's gradient = {seed_w1_relative_error:.2f}")
assert np.allclose(seed_dw2, grads[2]) and seed_w1_relative_error > 0.5
rec.metric("seed_backward_w1_relative_error", seed_w1_relative_error)

# %% [markdown]
# ### 2.2 Training the NumPy network
#
# Backpropagation only computes gradients. Seed `004` §3.1 says "反向传播：用于优化模型参数的
# 算法，通过计算梯度来更新权重和偏置", making backpropagation the algorithm that updates the
# weights; the update is the optimizer's job, a separate step that section 3 is about. Here
# the simplest optimizer, **mini-batch stochastic gradient descent**: shuffle the training
# set every epoch, cut it into batches of 64, and after each batch move every weight
# against its gradient, $w \leftarrow w - \eta\, \partial L/\partial w$ with learning rate
# $\eta = 0.2$.


# %%
def accuracy(probabilities, labels):
    return float(np.mean((probabilities[:, 0] >= 0.5) == labels))


rng = np.random.default_rng(0)
learning_rate = 0.2
mlp = NumpyMLP(keras_mlp().get_weights())
x_train64 = x_train.astype("float64")
numpy_losses = []
start = time.perf_counter()
for _ in range(NUMPY_EPOCHS):
    order = rng.permutation(len(x_train))  # a new order every epoch
    epoch_loss = 0.0
    for first in range(0, len(order), BATCH_SIZE):
        batch = order[first : first + BATCH_SIZE]
        xb_, tb_ = x_train64[batch], y_train[batch, None]
        y_, cache_ = mlp.forward(xb_)
        epoch_loss += mlp.loss(cache_[3], tb_) * len(batch)
        for weight, grad in zip(mlp.weights, mlp.backward(cache_, y_, tb_), strict=True):
            weight -= learning_rate * grad  # in place: the optimizer step
    numpy_losses.append(epoch_loss / len(order))
numpy_test_accuracy = accuracy(mlp.forward(x_test.astype("float64"))[0], y_test)
print(
    f"{NUMPY_EPOCHS} epochs in {time.perf_counter() - start:.1f} s;",
    "training loss by epoch:",
    [round(v, 3) for v in numpy_losses],
)
print(f"test accuracy {numpy_test_accuracy:.3f} (majority baseline {majority_baseline:.3f})")
assert numpy_losses[-1] < numpy_losses[0] < math.log(2) + 0.01
assert numpy_test_accuracy > majority_baseline + 0.1
rec.metric("numpy_mlp_loss_by_epoch", numpy_losses)
rec.metric("numpy_mlp_test_accuracy", numpy_test_accuracy)

# %% [markdown]
# ### 2.3 "Stochastic" means random order
#
# The seeds' SGD pseudo-code (`002` 2.1.2 and 3.1.2) loops `for sample in samples` in the same
# fixed order every epoch. The guarantees of SGD assume each update sees a *random* example,
# an unbiased estimate of the full gradient; in practice one shuffles every epoch, as above.
# Data files are often sorted. MR's come as all positive sentences, then all negative ones.
# One epoch of per-example SGD on logistic regression, in file order and shuffled:


# %%
def per_example_sgd(order, learning_rate=0.05):
    """Teaching code: one epoch of SGD, one example per update, on logistic regression."""
    w, b = np.zeros(x_train.shape[1]), 0.0
    for i in order:
        error = sigmoid(x_train64[i] @ w + b) - y_train[i]  # dL/dz for one example
        w -= learning_rate * error * x_train64[i]
        b -= learning_rate * error
    return sigmoid(x_test @ w + b)[:, None]


file_order = np.argsort(-y_train, kind="stable")  # positives first, like the raw files
orders = {"file order (sorted by label)": file_order, "shuffled": rng.permutation(len(y_train))}
order_results = {}
for name, order in orders.items():
    p = per_example_sgd(order)
    order_results[name] = (accuracy(p, y_test), float(np.mean(p >= 0.5)))
show_table(
    ["order of the examples", "test accuracy", "share predicted positive"],
    [[name, f"{a:.3f}", f"{s:.3f}"] for name, (a, s) in order_results.items()],
)
sorted_accuracy, shuffled_accuracy = (v[0] for v in order_results.values())
assert sorted_accuracy < majority_baseline + 0.05 < shuffled_accuracy
rec.metric("sgd_file_order_test_accuracy", sorted_accuracy)
rec.metric("sgd_shuffled_test_accuracy", shuffled_accuracy)

# %% [markdown]
# In file order the last few thousand updates all say "negative", and the model forgets the
# positives: it predicts "negative" for nearly everything.
#
# ## 3. Optimizers
#
# ### 3.1 The update rules
#
# For a weight $w$ with gradient $g_t$ at update $t = 1, 2, \dots$ and learning rate $\eta$
# (all operations element-wise), `nlpbook.optim` implements, from these rules, the
# optimizers below (their docstrings give the same rules in code notation):
#
# | optimizer | state | update |
# | --- | --- | --- |
# | SGD | — | $w \leftarrow w - \eta g$ |
# | momentum | velocity $v_0 = 0$ | $v \leftarrow \mu v - \eta g$; $w \leftarrow w + v$ |
# | Nesterov | velocity $v_0 = 0$ | $v \leftarrow \mu v - \eta g$; $w \leftarrow w + \mu v - \eta g$ |
# | Adagrad | sum of squares $a_0 = 0.1$ | $a \leftarrow a + g^2$; $w \leftarrow w - \eta g / \sqrt{a + \epsilon}$ |
# | RMSprop | mean square $s_0 = 0$ | $s \leftarrow \rho s + (1-\rho) g^2$; $w \leftarrow w - \eta g / \sqrt{s + \epsilon}$ |
# | Adam | moments $m_0 = v_0 = 0$ | $m \leftarrow \beta_1 m + (1-\beta_1) g$; $v \leftarrow \beta_2 v + (1-\beta_2) g^2$; $w \leftarrow w - \eta \frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t} \frac{m}{\sqrt v + \hat\epsilon}$ |
#
# Momentum keeps a running sum of past steps, so steps along a consistent direction add up
# while oscillating components cancel. Nesterov applies the velocity before taking the
# gradient step, which damps the overshoot. Adagrad, RMSprop and Adam divide each coordinate
# by the size of its own recent gradients: every weight gets its own step size. Adagrad's
# sum only grows, so its steps shrink forever; RMSprop forgets with rate $\rho$; Adam
# adds momentum and corrects both moving averages for starting at zero, which is what
# the factor $\sqrt{1-\beta_2^t}/(1-\beta_1^t)$ does (Kingma & Ba 2015, section 2).
#
# The seeds' momentum rule (`velocity = momentum * velocity - learning_rate * delta`,
# `weights = weights + velocity`) is exactly the momentum row, which is also Keras'
# formulation. Its first version in `002` 2.1.2 does not get as far as running, though:

# %%
SEED_MOMENTUM_HEADER = (  # 002 2.1.2, first line of the momentum pseudo-code
    "def momentum gradient_descent(x, y, weights, learning_rate, momentum, epochs):\n"
    "    velocity = 0\n"
)
try:
    compile(SEED_MOMENTUM_HEADER, "seed 002 2.1.2", "exec")
    momentum_syntax_error = None
except SyntaxError as err:
    momentum_syntax_error = f"SyntaxError: {err.msg} (line {err.lineno})"
print(momentum_syntax_error)
assert momentum_syntax_error is not None
rec.metric("seed_momentum_syntax_error", int(momentum_syntax_error is not None))

# %% [markdown]
# ### 3.2 Ours move the weights exactly as Keras' do
#
# The library's tests (`tests/optim/`) prove it over 50 updates on small models; here it is
# on this chapter's network and data. Each optimizer trains the MLP for 50 updates on the
# first 50 training batches, twice from the same initial weights: once with `nlpbook.optim`,
# once with the Keras built-in of the same name and settings. After every update, every
# weight is compared.

# %%
OPTIMIZERS = {  # name: (settings, ours, Keras'); the settings are used throughout the chapter
    "SGD": ({"learning_rate": 0.2}, optim.SGD, keras.optimizers.SGD),
    "momentum": ({"learning_rate": 0.05, "momentum": 0.9}, optim.SGD, keras.optimizers.SGD),
    "Nesterov": (
        {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True},
        optim.SGD,
        keras.optimizers.SGD,
    ),
    "Adagrad": ({"learning_rate": 0.05}, optim.Adagrad, keras.optimizers.Adagrad),
    "RMSprop": ({"learning_rate": 1e-3}, optim.RMSprop, keras.optimizers.RMSprop),
    "Adam": ({"learning_rate": 1e-3}, optim.Adam, keras.optimizers.Adam),
}
first_batches = [
    (x_train[i * BATCH_SIZE : (i + 1) * BATCH_SIZE], y_train[i * BATCH_SIZE : (i + 1) * BATCH_SIZE])
    for i in range(COMPARE_STEPS)
]


def weight_path(optimizer):
    """Weights after each of the first COMPARE_STEPS updates (initial weights first)."""
    model = keras_mlp()
    model.compile(optimizer=optimizer, loss="binary_crossentropy")
    path = [model.get_weights()]
    for xb_, yb_ in first_batches:
        model.train_on_batch(xb_, yb_)
        path.append(model.get_weights())
    return path


optimizer_vs_keras = {}
for name, (settings, ours_cls, keras_cls) in OPTIMIZERS.items():
    ours_path, keras_path = weight_path(ours_cls(**settings)), weight_path(keras_cls(**settings))
    optimizer_vs_keras[name] = max(
        float(np.max(np.abs(a - k)))
        for step_a, step_k in zip(ours_path, keras_path, strict=True)
        for a, k in zip(step_a, step_k, strict=True)
    )
    moved = float(np.max(np.abs(ours_path[-1][0] - ours_path[0][0])))
    optimizer_vs_keras[name + " moved"] = moved
show_table(
    [
        "optimizer",
        "settings",
        f"max |ours - Keras| over {COMPARE_STEPS} updates",
        "max |W1 change|",
    ],
    [
        [n, s[0], f"{optimizer_vs_keras[n]:.1e}", f"{optimizer_vs_keras[n + ' moved']:.3f}"]
        for n, s in OPTIMIZERS.items()
    ],
)
worst_vs_keras = max(optimizer_vs_keras[n] for n in OPTIMIZERS)
assert worst_vs_keras < 1e-6, optimizer_vs_keras
rec.metric("optimizer_vs_keras_max_abs_diff", {n: optimizer_vs_keras[n] for n in OPTIMIZERS})
rec.metric("optimizer_vs_keras_worst", worst_vs_keras)

# %% [markdown]
# Same rules, same operations: on the TensorFlow backend the weights agree to the last bit
# (on PyTorch, Keras runs fused kernels in another order, and the library's tests allow
# float32 rounding, $10^{-6}$). One place where ours
# and Keras' do differ on purpose is an `Embedding` on TensorFlow when a token occurs twice
# in a batch; the `nlpbook.optim.Adagrad` docstring and the library's tests explain it.
#
# ### 3.3 Adam's first step, and the seed's
#
# The seeds' Adam (`002` 2.1.2 and 3.1.2) corrects the moments with the **epoch** count,
# starting at 0:
#
# ```python
# for epoch in range(epochs):
#     for sample in samples:
#         ...
#         m_hat = m / (1 - beta1 ** epoch)
#         v_hat = v / (1 - beta2 ** epoch)
#         weights = weights - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon)
# ```
#
# In the first epoch $1 - \beta_1^0 = 0$. Run on the real gradient of $W_1$ from section 2
# (with its `epsilon`, undefined in the seed, set to Keras' $10^{-7}$):


# %%
def seed_adam_update(
    weights, delta, m, v, epoch, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-7
):
    """The seed's Adam update (002 2.1.2), transcribed line by line."""
    m = beta1 * m + (1 - beta1) * delta
    v = beta2 * v + (1 - beta2) * (delta**2)
    m_hat = m / (1 - beta1**epoch)
    v_hat = v / (1 - beta2**epoch)
    return weights - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), m, v


w1, g1 = reference.get_weights()[0], grads[0]  # initial W1 and its gradient (section 2)
with np.errstate(divide="ignore", invalid="ignore"):
    seed_w1, _, _ = seed_adam_update(w1, g1, 0.0, 0.0, epoch=0)
seed_nonfinite = float(np.mean(~np.isfinite(seed_w1)))
print(f"after the seed's first update {seed_nonfinite:.0%} of W1 is nan or inf")

variable = keras.Variable(w1.astype("float32"))
optim.Adam(learning_rate=1e-3).apply(
    [keras.ops.convert_to_tensor(g1.astype("float32"))], [variable]
)
first_step = w1.astype("float32") - keras.ops.convert_to_numpy(variable)
# t = 1: m = 0.1 g, v = 0.001 g**2, factor sqrt(0.001) / 0.1, so the step is as below
expected_step = 1e-3 * g1 / (np.abs(g1) + 1e-7 / np.sqrt(1 - 0.999))
large = np.abs(g1) > 1e-4
print(
    f"nlpbook.optim.Adam (t = 1): all finite = {bool(np.all(np.isfinite(first_step)))}; "
    f"|step| where |g| > 1e-4: {np.abs(first_step[large]).min():.2e} to "
    f"{np.abs(first_step[large]).max():.2e} (learning rate 1e-3)"
)
assert seed_nonfinite == 1.0 and np.all(np.isfinite(first_step))
assert np.allclose(first_step, expected_step, rtol=1e-3, atol=1e-8)  # float32 weights ~0.05
rec.metric("seed_adam_first_step_nonfinite_fraction", seed_nonfinite)
rec.metric("adam_first_step_max_abs", float(np.abs(first_step).max()))

# %% [markdown]
# Every weight becomes `nan`: where the gradient is non-zero, $m/0 = \pm\infty$ and
# $\infty/\infty$ is `nan`; where it is zero, $0/0$ is `nan` already. Counting updates from
# $t = 1$ instead makes the first corrected step $\eta\, g/(|g| + \hat\epsilon/\sqrt{1-\beta_2})
# \approx \eta\,\mathrm{sign}(g)$ (checked above): every weight whose gradient is not tiny
# moves by about the learning rate, whatever the size of its gradient. That is Adam's design:
# the learning rate bounds the step.
#
# Starting the seed's count at 1 would remove the division by zero but not the second error:
# the bias of $m$ and $v$ depends on how many *updates* they have averaged, not on the
# epoch. The step-size factor $\sqrt{1-\beta_2^t}/(1-\beta_1^t)$ against update $t$, and the
# seed's with the epoch number, over ten epochs of this data. Adam's factor rises towards 1
# as the moving averages fill up; the seed's falls, epoch by epoch (0.32, 0.24, 0.20, …,
# 0.15 in epoch 10), and would come back up to 1 only after thousands of epochs:

# %%
steps_per_epoch = math.ceil(len(x_train) / BATCH_SIZE)
t = np.arange(1, 10 * steps_per_epoch + 1)
seed_epoch = 1 + (t - 1) // steps_per_epoch  # the seed's counter, if it started at 1


def correction(n, beta1=0.9, beta2=0.999):
    return np.sqrt(1 - beta2**n) / (1 - beta1**n)


fig, ax = plt.subplots(figsize=(7, 3.2))
ax.plot(t, correction(t), label="by update $t$ (Adam, Keras, nlpbook.optim)")
ax.plot(t, correction(seed_epoch), label="by epoch, counted from 1 (the seed, repaired)")
ax.set(
    xlabel="update",
    ylabel=r"$\sqrt{1-\beta_2^t}\,/\,(1-\beta_1^t)$",
    title=f"Adam's step-size factor ({steps_per_epoch} updates per epoch)",
)
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
epoch2 = steps_per_epoch  # index of the first update of epoch 2
print(
    f"first update of epoch 2: factor {correction(t[epoch2]):.3f} by update, "
    f"{correction(seed_epoch[epoch2]):.3f} by epoch"
)
late_ratio = float(correction(t[-1]) / correction(seed_epoch[-1]))
print(f"last update of epoch 10: the seed's steps are {late_ratio:.1f} times too small")
rec.metric("seed_adam_epoch10_step_ratio", late_ratio)

# %% [markdown]
# ### 3.4 The seed's "adaptive gradient algorithm"
#
# Seed `002` 2.1.2 calls it "自适应梯度算法（Adaptive Gradient Algorithm，简称AGA）" and gives
# `weights = weights - learning_rate * delta / (1 + alpha * epoch)`. The method of that name
# is **AdaGrad** (Duchi, Hazan & Singer 2011), and what makes it adaptive is the
# per-coordinate accumulator $a$ in the table above. The seed's rule has no state at all: it
# divides the learning rate by $1 + \alpha \cdot \text{epoch}$, the same number for every
# weight, whatever the gradients. That is a **learning-rate schedule**, inverse-time decay,
# which Keras has as `InverseTimeDecay(..., staircase=True)`. Seed `002` 3.1.2 prints a
# different version: `m = learning_rate * delta / (1 + alpha * epoch)`, `v = m * delta` (never
# used), `weights = weights - learning_rate * m`. The learning rate is applied twice, so it is
# SGD with rate $\eta^2$.
#
# Both, transcribed and run on the elliptic bowl $f(w) = (w_1^2 + 20 w_2^2)/2$, against SGD
# with the corresponding Keras schedule (float64):

# %%
bowl = optim.QuadraticBowl(curvatures=(1.0, 20.0))
BOWL_START = (-2.0, 1.0)


def seed_aga_path(version, start, learning_rate, alpha, epochs, steps_per_epoch):
    """The seed's two AGA loops (002 2.1.2 and 3.1.2) on the bowl, one point per update."""
    weights, path = np.array(start, dtype="float64"), [np.array(start, dtype="float64")]
    for epoch in range(epochs):
        for _ in range(steps_per_epoch):
            delta = bowl.matrix @ weights  # the gradient
            if version == "2.1.2":
                weights = weights - learning_rate * delta / (1 + alpha * epoch)
            else:  # 3.1.2
                m = learning_rate * delta / (1 + alpha * epoch)
                v = m * delta  # noqa: F841 (computed and never used, as in the seed)
                weights = weights - learning_rate * m
            path.append(weights)
    return np.stack(path)


aga = {"learning_rate": 0.08, "alpha": 0.5, "epochs": 4, "steps_per_epoch": 5}
updates = aga["epochs"] * aga["steps_per_epoch"]


def inverse_time_sgd(rate):
    schedule = keras.optimizers.schedules.InverseTimeDecay(
        rate, decay_steps=aga["steps_per_epoch"], decay_rate=aga["alpha"], staircase=True
    )
    return optim.trajectory(optim.SGD(schedule), bowl, BOWL_START, updates, dtype="float64")


aga_diffs = {
    "2.1.2 vs SGD + InverseTimeDecay(lr)": np.abs(
        seed_aga_path("2.1.2", BOWL_START, **aga) - inverse_time_sgd(aga["learning_rate"])
    ).max(),
    "3.1.2 vs SGD + InverseTimeDecay(lr**2)": np.abs(
        seed_aga_path("3.1.2", BOWL_START, **aga) - inverse_time_sgd(aga["learning_rate"] ** 2)
    ).max(),
}
for name, diff in aga_diffs.items():
    print(f"seed {name}: max |difference| over {updates} updates = {diff:.1e}")
assert max(aga_diffs.values()) < 1e-6  # Keras holds the rate in float32
rec.metric("seed_aga_equals_inverse_time_sgd_max_abs_diff", max(aga_diffs.values()))

# %% [markdown]
# The differences are float32 rounding of the learning rate (Keras keeps it in a float32
# variable). The seed's "AGA" moves every coordinate by the same multiple of its gradient.
# Adagrad does not: after a few steps on the bowl, each coordinate's effective step size,
# (change of the coordinate) / (its gradient), is about 20 times smaller on the steep axis:


# %%
def effective_rates(path, surface, step):
    """Per-coordinate step size actually taken at update `step`: -(w_{t+1} - w_t) / g(w_t)."""
    gradient = keras.ops.convert_to_numpy(surface.gradient(path[step]))
    return -(path[step + 1] - path[step]) / gradient


rate_paths = {
    "seed AGA (2.1.2)": seed_aga_path("2.1.2", BOWL_START, **aga),
    "Adagrad": optim.trajectory(optim.Adagrad(0.5), bowl, BOWL_START, updates, dtype="float64"),
}
rates = {name: effective_rates(path, bowl, 10) for name, path in rate_paths.items()}
show_table(
    ["method", "step size, flat axis", "step size, steep axis", "ratio"],
    [
        [n, f"{flat:.4f}", f"{steep:.4f}", f"{flat / steep:.1f}"]
        for n, (flat, steep) in rates.items()
    ],
)
adagrad_ratio = float(rates["Adagrad"][0] / rates["Adagrad"][1])
assert np.isclose(*rates["seed AGA (2.1.2)"]) and adagrad_ratio > 5
rec.metric("adagrad_effective_rate_ratio", adagrad_ratio)

# %% [markdown]
# ### 3.5 Paths on two surfaces
#
# Two classic test functions, `optim.QuadraticBowl` and `optim.Rosenbrock`, written in
# `keras.ops` with their analytic gradients (the library's tests check them against
# automatic differentiation), and `optim.trajectory(optimizer, surface, start, steps)`, which
# runs any Keras optimizer on a 2-D variable and returns the points it visits.
#
# - The **elliptic bowl** above: curvature 1 along $w_1$ and 20 along $w_2$ (condition number
#   20). Gradient descent is stable only for $\eta < 2/20$, and then shrinks the error along
#   the flat axis by only $1 - \eta$ per step: the steep axis sets the rate, the flat axis
#   the time. For SGD the path has a closed form, $w_t = (I - \eta A)^t w_0$.
# - **Rosenbrock's valley** $f(x, y) = (1-x)^2 + 100(y - x^2)^2$: minimum 0 at (1, 1), at the
#   end of a curved valley whose walls are a hundred times steeper than its floor.
#
# The settings (learning rates as above, chosen by hand per surface) are in the table
# after the plots.

# %%
lr_bowl = 0.09
sgd_bowl = optim.trajectory(optim.SGD(2**-4), bowl, BOWL_START, BOWL_STEPS, dtype="float64")
closed_form = np.stack(
    [
        np.linalg.matrix_power(np.eye(2) - 2**-4 * bowl.matrix, k) @ BOWL_START
        for k in range(BOWL_STEPS + 1)
    ]
)
closed_form_diff = float(np.abs(sgd_bowl - closed_form).max())
too_fast = optim.trajectory(optim.SGD(0.11), bowl, BOWL_START, 20, dtype="float64")
print(f"SGD on the bowl vs (I - lr A)^t w0: max |difference| = {closed_form_diff:.1e}")
print(
    f"lr = 0.11 > 2/20: |w2| after 20 steps = {abs(too_fast[-1, 1]):.1f} "
    f"(= |1 - 0.11 * 20|^20 = {1.2**20:.1f}): diverges"
)
assert closed_form_diff < 1e-12 and abs(too_fast[-1, 1]) > 30
rec.metric("sgd_bowl_closed_form_max_abs_diff", closed_form_diff)

SURFACES = {
    "bowl": (
        bowl,
        BOWL_START,
        BOWL_STEPS,
        {
            "SGD": (optim.SGD, {"learning_rate": lr_bowl}),
            "momentum": (optim.SGD, {"learning_rate": 0.02, "momentum": 0.9}),
            "Nesterov": (optim.SGD, {"learning_rate": 0.02, "momentum": 0.9, "nesterov": True}),
            "Adagrad": (optim.Adagrad, {"learning_rate": 0.5}),
            "RMSprop": (optim.RMSprop, {"learning_rate": 0.05}),
            "Adam": (optim.Adam, {"learning_rate": 0.1}),
        },
    ),
    "Rosenbrock": (
        optim.Rosenbrock(),
        (-1.5, 2.0),
        ROSENBROCK_STEPS,
        {
            "SGD": (optim.SGD, {"learning_rate": 1e-3}),
            "momentum": (optim.SGD, {"learning_rate": 1e-3, "momentum": 0.9}),
            "Nesterov": (optim.SGD, {"learning_rate": 1e-3, "momentum": 0.9, "nesterov": True}),
            "Adagrad": (optim.Adagrad, {"learning_rate": 1.0}),
            "RMSprop": (optim.RMSprop, {"learning_rate": 0.01}),
            "Adam": (optim.Adam, {"learning_rate": 0.1}),
        },
    ),
}
paths = {
    (surface_name, name): optim.trajectory(cls(**settings), surface, start, steps)
    for surface_name, (surface, start, steps, runs) in SURFACES.items()
    for name, (cls, settings) in runs.items()
}

# %%
colors = dict(zip(OPTIMIZERS, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
fig, axes = plt.subplots(1, 2, figsize=(13, 5))
views = {"bowl": ((-2.3, 1.0), (-1.2, 1.2)), "Rosenbrock": ((-2.0, 1.6), (-0.6, 3.0))}
for ax, (surface_name, (surface, start, steps, runs)) in zip(axes, SURFACES.items(), strict=True):
    (x0, x1), (y0, y1) = views[surface_name]
    grid = np.stack(np.meshgrid(np.linspace(x0, x1, 300), np.linspace(y0, y1, 300)), axis=-1)
    values = keras.ops.convert_to_numpy(surface(grid))
    ax.contour(grid[..., 0], grid[..., 1], np.log1p(values), levels=25, cmap="Greys", alpha=0.6)
    for name in runs:
        path = paths[(surface_name, name)]
        ax.plot(path[:, 0], path[:, 1], ".-", ms=2, lw=1, color=colors[name], label=name)
    ax.plot(*surface.minimum, "r*", ms=14, label="minimum")
    ax.set(
        xlim=(x0, x1),
        ylim=(y0, y1),
        xlabel="$w_1$",
        ylabel="$w_2$",
        title=f"{surface_name}: {steps} steps from {start}",
    )
    ax.legend(fontsize=8, loc="lower right")
fig.tight_layout()
plt.show()

# %%
surface_rows, surface_final = [], {}
for (surface_name, name), path in paths.items():
    surface = SURFACES[surface_name][0]
    final_value = float(keras.ops.convert_to_numpy(surface(path[-1])))
    start_value = float(keras.ops.convert_to_numpy(surface(path[0])))
    distance = float(np.linalg.norm(path[-1] - surface.minimum))
    surface_final[f"{surface_name}/{name}"] = {"final_value": final_value, "distance": distance}
    settings = SURFACES[surface_name][3][name][1]
    surface_rows.append(
        [
            surface_name,
            name,
            settings,
            f"{start_value:.3g}",
            f"{final_value:.2e}",
            f"{distance:.3f}",
        ]
    )
    assert np.all(np.isfinite(path)) and final_value < start_value, (surface_name, name)
show_table(
    ["surface", "optimizer", "settings", "f(start)", "f(end)", "distance to minimum"], surface_rows
)
rec.metric("surface_final", surface_final)

# %% [markdown]
# What the pictures show:
#
# - On the bowl, SGD at $\eta = 0.09$ (just under $2/20$) zig-zags across the steep axis,
#   each step overshooting by 80 %, while creeping along the flat one. Momentum builds up
#   speed along the flat axis and spirals; Nesterov's look-ahead damps the spiral.
#   Adagrad and RMSprop rescale each axis by its own gradient size and head almost straight
#   to the minimum, because the bowl's axes are the coordinate axes (rotate the bowl,
#   `QuadraticBowl(angle=...)`, and that advantage goes: exercise 2).
# - In Rosenbrock's valley every method first falls to the valley floor and then has to
#   follow a curved path with a tiny gradient. Plain SGD, limited by the steep walls to a
#   small learning rate, has barely started along the floor; momentum accumulates speed
#   along it and gets close. RMSprop's and Adam's steps are about $\eta$ long whatever the
#   size of the gradient, so they move along the flat floor as fast as down the walls, and
#   their learning rate is a speed limit: Adam at $\eta = 0.1$ is well along the valley,
#   RMSprop at $\eta = 0.01$ cannot have travelled more than 300 × 0.01 = 3 (in quick mode).
#   Adagrad's first steps are about $\eta = 1$ long (its sum starts at 0.1) and throw it up
#   the wall; then its steps shrink as its sums grow.
#
# ## 4. Learning-rate schedules
#
# The learning rate need not be constant. Two common shapes:
#
# - **Step decay**: divide the rate by a constant every few epochs (Keras:
#   `PiecewiseConstantDecay`, or `ExponentialDecay(staircase=True)`); the seed's "AGA" is its
#   cousin, inverse-time decay.
# - **Warm-up, then cosine decay**: rise linearly from 0 to a peak over the first updates,
#   then follow half a cosine down to a final rate. Warm-up keeps the first updates small
#   while Adam's estimate $v$ rests on a few gradients and a fresh network's gradients are
#   large; it is standard for Transformers (chapter 7 onwards). `optim.WarmupCosine` is this
#   schedule; it equals Keras' `CosineDecay` with `warmup_target`, which takes the final
#   rate as a fraction `alpha` of the peak.

# %%
total_steps = CURVE_EPOCHS * steps_per_epoch
warmup_steps = steps_per_epoch // 2
schedules = {
    "warm-up + cosine (optim.WarmupCosine)": optim.WarmupCosine(
        3e-3,
        warmup_steps=warmup_steps,
        decay_steps=total_steps - warmup_steps,
        final_learning_rate=3e-5,
    ),
    "step decay: halve every epoch": keras.optimizers.schedules.ExponentialDecay(
        3e-3, decay_steps=steps_per_epoch, decay_rate=0.5, staircase=True
    ),
    "inverse time, per epoch (the seed's AGA)": keras.optimizers.schedules.InverseTimeDecay(
        3e-3, decay_steps=steps_per_epoch, decay_rate=0.5, staircase=True
    ),
}
keras_cosine = keras.optimizers.schedules.CosineDecay(
    0.0,
    decay_steps=total_steps - warmup_steps,
    warmup_target=3e-3,
    warmup_steps=warmup_steps,
    alpha=3e-5 / 3e-3,
)
steps = np.arange(total_steps + 1)
curves = {name: keras.ops.convert_to_numpy(s(steps)) for name, s in schedules.items()}
keras_curve = np.array([float(keras_cosine(int(s))) for s in steps])  # one step per call
schedule_diff = float(np.abs(curves[next(iter(curves))] - keras_curve).max())
print(
    f"WarmupCosine vs keras CosineDecay(warmup_target=...): max |difference| over "
    f"{total_steps + 1} steps = {schedule_diff:.1e}"
)
assert schedule_diff < 1e-9
rec.metric("warmup_cosine_vs_keras_max_abs_diff", schedule_diff)

fig, ax = plt.subplots(figsize=(8, 3.2))
for name, curve in curves.items():
    ax.plot(steps, curve, label=name)
for e in range(1, CURVE_EPOCHS):
    ax.axvline(e * steps_per_epoch, color="gray", lw=0.5, ls=":")
ax.set(
    xlabel="update (dotted lines: epochs)",
    ylabel="learning rate",
    title="Learning-rate schedules for the training run of section 5",
)
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 5. The same network under each optimizer
#
# Now the text model: the MLP of section 2, trained with Keras' `fit` for a few epochs on
# the 8,636 training sentences, once per optimizer (the `nlpbook.optim` classes with the
# settings of section 3.2), all from the same initial weights and batch order, plus Adam
# with the warm-up + cosine schedule above (peak $3 \cdot 10^{-3}$). Learning rates are
# typical defaults for each method, not tuned; exercise 3 asks for a fair comparison.

# %%
runs = {name: (cls, settings) for name, (settings, cls, _) in OPTIMIZERS.items()}
runs["Adam + warm-up/cosine"] = (
    optim.Adam,
    {"learning_rate": schedules["warm-up + cosine (optim.WarmupCosine)"]},
)
initial = keras_mlp()
initial.compile(loss="binary_crossentropy", metrics=["accuracy"])
initial_val_loss, initial_val_accuracy = initial.evaluate(x_val, y_val, verbose=0)
histories, best_epochs, test_accuracies, fit_seconds = {}, {}, {}, {}
for name, (cls, settings) in runs.items():
    model = keras_mlp()  # same seed: same initial weights
    model.compile(optimizer=cls(**settings), loss="binary_crossentropy", metrics=["accuracy"])
    # keep the weights of the epoch with the lowest validation loss; stop after 3 worse ones
    early_stopping = keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)
    keras.utils.set_random_seed(1)  # same shuffling for every optimizer
    start = time.perf_counter()
    history = model.fit(
        x_train,
        y_train,
        batch_size=BATCH_SIZE,
        epochs=CURVE_EPOCHS,
        validation_data=(x_val, y_val),
        callbacks=[early_stopping],
        verbose=0,
    )
    fit_seconds[name] = time.perf_counter() - start
    histories[name] = history.history
    best_epochs[name] = int(np.argmin(history.history["val_loss"])) + 1
    test_accuracies[name] = float(model.evaluate(x_test, y_test, verbose=0)[1])
    if name == "Adam":
        adam_model = model  # reused in section 6

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
for name, history in histories.items():
    style = {"color": colors.get(name, "k"), "label": name, "marker": "o", "ms": 3}
    if name not in colors:
        style["ls"] = "--"
    epochs_axis = np.arange(len(history["loss"]) + 1)
    axes[0].plot(epochs_axis[1:], history["loss"], **style)
    axes[1].plot(epochs_axis, [initial_val_loss, *history["val_loss"]], **style)
    axes[2].plot(epochs_axis, [initial_val_accuracy, *history["val_accuracy"]], **style)
axes[2].axhline(majority_baseline, color="gray", ls=":", label="majority baseline")
for ax, title in zip(
    axes,
    ["training loss (mean over the epoch)", "validation loss", "validation accuracy"],
    strict=True,
):
    ax.set(xlabel="epoch", title=title)
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
axes[2].legend(fontsize=8)
fig.tight_layout()
plt.show()

curve_rows, final_losses, best_val_losses = [], {}, {}
for name, history in histories.items():
    best = best_epochs[name] - 1
    final_losses[name] = history["loss"][-1]
    best_val_losses[name] = history["val_loss"][best]
    curve_rows.append(
        [
            name,
            len(history["loss"]),
            f"{history['loss'][-1]:.3f}",
            best_epochs[name],
            f"{history['val_loss'][best]:.3f}",
            f"{history['val_accuracy'][best]:.3f}",
            f"{test_accuracies[name]:.3f}",
            f"{fit_seconds[name]:.1f}",
        ]
    )
show_table(
    [
        "optimizer",
        "epochs",
        "last train loss",
        "best epoch",
        "val loss",
        "val accuracy",
        "test accuracy",
        "fit (s)",
    ],
    curve_rows,
)
print(
    f"before training: validation loss {initial_val_loss:.3f}, accuracy {initial_val_accuracy:.3f}"
)
for name, history in histories.items():
    assert history["loss"][-1] < history["loss"][0], name
    assert best_val_losses[name] < initial_val_loss, name
rec.metric("initial_val_loss", initial_val_loss)
rec.metric("final_train_loss", final_losses)
rec.metric("best_val_loss", best_val_losses)
rec.metric("best_epoch", best_epochs)
rec.metric("val_accuracy_by_epoch", {n: h["val_accuracy"] for n, h in histories.items()})
rec.metric("test_accuracy", test_accuracies)
rec.info(curve_epochs=CURVE_EPOCHS, steps_per_epoch=steps_per_epoch)

# %% [markdown]
# Each run keeps the weights of its epoch with the lowest validation loss (**early
# stopping**, `keras.callbacks.EarlyStopping(restore_best_weights=True)`), and the test
# accuracy is measured with those; the test set is used once, at the end. With these
# defaults the adaptive methods and momentum get furthest in the first epochs; plain SGD
# and Adagrad need more epochs at these rates. All of them beat the majority baseline by a
# wide margin. Training loss keeps falling while validation loss turns up after a few
# epochs (full mode shows it clearly): with 64,000 weights (320,000 in full mode) for 8,600
# sentences the network starts memorising, whatever the optimizer, and the fastest
# optimizers get there first. The optimizer decides how fast a model gets somewhere; the
# data and the model decide what there is to get.
#
# ## 6. Three ways to write a Keras model, and TensorFlow 1
#
# Seed `002` 2.1.3 and 3.1.3 introduce the frameworks. Keras offers three ways to write the
# same network, and they build the same computation:
#
# - **Sequential**: a list of layers, each feeding the next (as above).
# - **Functional**: call layers on symbolic inputs and name the inputs and outputs; any
#   graph of layers (several inputs, shared layers, skip connections).
# - **Subclassing**: a `keras.Model` subclass whose `call` is ordinary Python; anything
#   goes, at the price of Keras seeing less of the structure (no plot, no summary before
#   the model is built).
#
# The check: given the same weights (those Adam just trained), all three give the same
# predictions.


# %%
def functional_mlp():
    inputs = keras.Input((VOCABULARY,), name="bag_of_words")
    hidden = keras.layers.Dense(HIDDEN, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="positive")(hidden)
    return keras.Model(inputs, outputs, name="functional_mlp")


class SubclassedMLP(keras.Model):
    """The same network as a keras.Model subclass."""

    def __init__(self, hidden_units, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(hidden_units, activation="relu")
        self.positive = keras.layers.Dense(1, activation="sigmoid")

    def call(self, x):
        return self.positive(self.hidden(x))


subclassed = SubclassedMLP(HIDDEN)
subclassed(x_test[:1])  # a subclassed model creates its weights on its first call
apis = {"Sequential": adam_model, "functional": functional_mlp(), "subclassing": subclassed}
for model in apis.values():
    model.set_weights(adam_model.get_weights())
predictions = {
    name: keras.ops.convert_to_numpy(m.predict(x_test, verbose=0)) for name, m in apis.items()
}
api_rows, api_diff = [], 0.0
for name, model in apis.items():
    diff = float(np.max(np.abs(predictions[name] - predictions["Sequential"])))
    api_diff = max(api_diff, diff)
    api_rows.append(
        [name, model.count_params(), f"{accuracy(predictions[name], y_test):.4f}", f"{diff:.1e}"]
    )
show_table(["API", "parameters", "test accuracy", "max |Δ prediction| vs Sequential"], api_rows)
assert api_diff < 1e-6
rec.metric("three_apis_max_abs_diff", api_diff)

# %% [markdown]
# ### 6.1 The seed's TensorFlow code
#
# The TensorFlow example of `002` 2.1.3 and 3.1.3 opens `with tf.Session() as sess:` and
# declares its inputs with `tf.placeholder`. That is TensorFlow 1 (2015–2019): first build a
# graph, then run pieces of it in a session, feeding the placeholders. TensorFlow 2 (2019)
# runs operations eagerly, like NumPy, and removed these names from the `tf` namespace:

# %%
removed = {}
for name in ["Session", "placeholder", "layers", "global_variables_initializer"]:
    try:
        getattr(tf, name)
        removed[name] = "still there"
    except AttributeError as err:
        removed[name] = f"AttributeError: {err}"
removed["train.AdamOptimizer"] = (
    "still there" if hasattr(tf.train, "AdamOptimizer") else "AttributeError (removed)"
)
show_table(["tf.<name>", f"in TensorFlow {tf.__version__}"], list(removed.items()))
assert all(v != "still there" for v in removed.values())
rec.metric("tf1_names_removed", len(removed))

# %% [markdown]
# The old API survives under `tf.compat.v1` (without `tf.compat.v1.layers`, which needed
# Keras 2). Run there, in a graph of its own, with the two dense layers written out, the
# seed's program still fails, because it never initialises its variables: TensorFlow 1
# needed `sess.run(tf.global_variables_initializer())` before anything else.

# %%
v1 = tf.compat.v1
y_train_onehot = np.eye(2, dtype="float32")[y_train.astype(int)]
y_test_onehot = np.eye(2, dtype="float32")[y_test.astype(int)]


def v1_dense(inputs, units, activation, name):
    """tf.layers.dense of TensorFlow 1, written with variables (compat.v1 lacks it now)."""
    with v1.variable_scope(name):
        kernel = v1.get_variable("kernel", [inputs.shape[-1], units])
        bias = v1.get_variable("bias", [units], initializer=v1.zeros_initializer())
    z = tf.matmul(inputs, kernel) + bias
    return activation(z) if activation else z


def seed_tf1_program(initialise, train_steps=1):
    """The seed's program under tf.compat.v1; returns the test accuracy it prints."""
    with tf.Graph().as_default(), v1.Session() as sess:
        v1.set_random_seed(0)
        x = v1.placeholder(tf.float32, shape=[None, VOCABULARY])
        y = v1.placeholder(tf.float32, shape=[None, 2])
        hidden = v1_dense(x, HIDDEN, tf.nn.relu, "hidden")
        logits = v1_dense(hidden, 2, None, "logits")
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        optimizer = v1.train.AdamOptimizer().minimize(loss)
        if initialise:  # the line the seed leaves out
            sess.run(v1.global_variables_initializer())
        for step in range(train_steps):
            batch = slice(step * BATCH_SIZE, (step + 1) * BATCH_SIZE)
            sess.run(optimizer, feed_dict={x: x_train[batch], y: y_train_onehot[batch]})
        correct_prediction = tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1))
        accuracy_op = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
        return float(accuracy_op.eval(feed_dict={x: x_test, y: y_test_onehot}))


try:
    seed_tf1_program(initialise=False)
    tf1_error = None
except tf.errors.FailedPreconditionError as err:
    tf1_error = type(err).__name__
    reason = next(line for line in err.message.splitlines() if "variable" in line)
    print(f"as written: {tf1_error}: {reason.strip()}")
one_step_accuracy = seed_tf1_program(initialise=True)
full_epoch_accuracy = seed_tf1_program(initialise=True, train_steps=steps_per_epoch)
print(
    f"with the initializer: test accuracy {one_step_accuracy:.3f} after the seed's single "
    f"sess.run(optimizer), {full_epoch_accuracy:.3f} after one epoch"
)
assert tf1_error == "FailedPreconditionError"
rec.metric("tf1_uninitialised_fails", int(tf1_error is not None))
rec.metric("tf1_one_epoch_test_accuracy", full_epoch_accuracy)

# %% [markdown]
# The seed's program also trains for exactly one step, on whatever `x_data` is. In
# TensorFlow 2 each piece of the TF1 program has a direct replacement:
#
# | TensorFlow 1 | TensorFlow 2 / Keras 3 |
# | --- | --- |
# | `tf.placeholder` + `feed_dict` | function arguments; `keras.Input` for a symbolic model |
# | `tf.Session`, `sess.run` | eager execution; `tf.function` compiles a Python function to a graph |
# | `tf.layers.dense` | `keras.layers.Dense` |
# | `tf.global_variables_initializer()` | variables are initialised when they are created |
# | `tf.train.AdamOptimizer().minimize(loss)` | `tf.GradientTape` + `optimizer.apply(grads, vars)`, or `model.fit` |
#
# `model.compile` + `model.fit` (section 5) is the short form. The explicit form, a training
# step compiled by `tf.function`, is what `fit` does for us on the TensorFlow backend:

# %%
tf2_model = keras_mlp()
tf2_optimizer = optim.Adam(learning_rate=1e-3)
bce = keras.losses.BinaryCrossentropy()


@tf.function  # traced once into a graph; no session, no placeholders
def train_step(x, y):
    with tf.GradientTape() as tape:
        loss = bce(y, tf2_model(x, training=True))
    grads = tape.gradient(loss, tf2_model.trainable_variables)
    tf2_optimizer.apply(grads, tf2_model.trainable_variables)
    return loss


batches = tf.data.Dataset.from_tensor_slices((x_train, y_train[:, None]))
for x_batch, y_batch in batches.shuffle(len(x_train), seed=0).batch(BATCH_SIZE):
    train_step(x_batch, y_batch)
tf2_accuracy = accuracy(keras.ops.convert_to_numpy(tf2_model(x_test)), y_test)
print(f"TF2 loop, one epoch: test accuracy {tf2_accuracy:.3f}")
assert tf2_accuracy > majority_baseline + 0.1
rec.metric("tf2_loop_one_epoch_test_accuracy", tf2_accuracy)

# %% [markdown]
# The seeds' Keras example is closer to today's code, with two changes. Keras no longer runs
# on "TensorFlow、Theano、Microsoft Cognitive Toolkit": Theano and CNTK support ended with
# Keras 2.3 (2019), and Keras 3 runs on TensorFlow, JAX and PyTorch. And
# `Dense(hidden_size, input_shape=(input_size,))` now warns; the input is declared with
# `keras.Input`:

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    keras.Sequential([keras.layers.Dense(HIDDEN, input_shape=(VOCABULARY,), activation="relu")])
input_shape_warnings = [str(w.message) for w in caught if "input_shape" in str(w.message)]
print(f"backend in use: {keras.backend.backend()}")
print("warning:", input_shape_warnings[0] if input_shape_warnings else "none")
assert input_shape_warnings
rec.metric("keras_input_shape_warns", int(bool(input_shape_warnings)))

# %% [markdown]
# ## 7. Results

# %%
path = rec.save()
summary = {k: v for k, v in rec.metrics.items() if not isinstance(v, (list, dict))}
show_table(
    ["metric", "value"],
    [[k, f"{v:.4g}" if isinstance(v, float) else v] for k, v in summary.items()],
)
print("written to", path)

# %% [markdown]
# In full mode (`NLPBOOK_QUICK=0`: 10,000-word vocabulary, up to 20 epochs, the best epoch by
# validation loss kept) this notebook measured, on two CPU cores under TensorFlow 2.21.0
# (125 s in all):
#
# | optimizer | SGD | momentum | Nesterov | Adagrad | RMSprop | Adam | Adam + warm-up/cosine |
# | --- | --- | --- | --- | --- | --- | --- | --- |
# | MR test accuracy | 0.717 | 0.754 | 0.737 | 0.765 | 0.766 | 0.770 | 0.755 |
# | best epoch | 4 | 3 | 2 | 8 | 3 | 2 | 1 |
#
# against a majority baseline of 0.491; `nlpbook.optim` matched Keras' six optimizers exactly
# (max difference 0.0 over 50 updates), and on Rosenbrock after 3,000 steps momentum and
# Nesterov reached the minimum ($f \approx 5 \cdot 10^{-12}$) while Adam, RMSprop and Adagrad
# ended near 0.014–0.023 and plain SGD at 0.049. The warm-up/cosine run stopped early (best
# epoch 1), before its schedule had decayed: the schedule is sized for 20 epochs.

# %% [markdown]
# ## Summary
#
# - A neuron is a weighted sum and a non-linearity; with a sigmoid and cross-entropy, the
#   gradient at its pre-activation is just $y - t$. A hand-written NumPy network's forward
#   and backward passes agree with TensorFlow's automatic differentiation to about $10^{-16}$
#   in float64, and it learns MR sentiment well above the majority baseline.
# - Backpropagation is the chain rule run backwards; each layer's error is multiplied by the
#   derivative of the *previous* layer's activation. Backpropagation computes gradients; the
#   optimizer updates the weights.
# - SGD needs a random order; momentum accumulates speed; Adagrad, RMSprop and Adam give
#   every weight its own step size; Adam's bias correction counts updates from 1.
#   `nlpbook.optim` implements each from its rule and moves the weights exactly as Keras does.
# - Learning-rate schedules (warm-up + cosine, step decay) are functions of the update
#   count, handed to the optimizer in place of a number.
# - Keras models can be written three ways with identical results; TensorFlow 1's sessions
#   and placeholders are gone, replaced by eager execution, `tf.function` and Keras.
#
# ## Exercises
#
# 1. Give `NumpyMLP` a second hidden layer and check its gradients against `GradientTape`
#    again. Then replace ReLU by the sigmoid in both hidden layers and compare the size of
#    the gradient of $W_1$ with that of the last layer.
# 2. Rotate the bowl: `optim.QuadraticBowl((1.0, 20.0), angle=math.pi / 4)`. Which
#    optimizers' paths change, and why do Adagrad, RMSprop and Adam lose most of their
#    advantage?
# 3. Make the comparison of section 5 fair: for each optimizer try learning rates
#    $10^{-4}$ … $1$ on a log grid, pick the best by validation loss, and report test
#    accuracy. Does the ranking change?
# 4. Fix the seed's Adam with the update count but keep `epsilon` inside the square root,
#    `np.sqrt(v_hat + epsilon)`. Compare its first step with `optim.Adam` for gradients of
#    size $10^{-6}$. Which form does Keras use for Adam, and which for RMSprop?
# 5. Write the training step of section 6.1 without `tf.function` and time one epoch of
#    each. Where does the difference come from?
#
# ## Errata
#
# > **Errata — where the seed articles are wrong** (each also in Appendix A)
# >
# > 1. **`002` 2.1.1 神经网络基础**, the backward pseudo-code `delta = np.dot(delta, weights.T) *
# >    dz` with `dz = activation_derivative(z)` multiplies the error sent to the previous layer
# >    by the derivative at the *current* layer's pre-activation. The chain rule needs the
# >    previous layer's, $\delta_{\ell-1} = (\delta_\ell W_\ell^\top) \odot f'(z_{\ell-1})$. With
# >    one output unit, NumPy broadcasting hides the mistake and the first layer's gradient is
# >    wrong (relative error printed in section 2.1). The forward pseudo-code also has no bias.
# > 2. **`004` §3.1 深度学习基础**: "反向传播：用于优化模型参数的算法，通过计算梯度来更新权重和偏置".
# >    Backpropagation computes the gradients (reverse-mode differentiation); updating the
# >    weights is the optimizer's step (SGD, Adam …), a separate algorithm (section 2.2).
# > 3. **`002` 3.1.1 神经网络基础**: the activation "通常取" the sigmoid. The sigmoid is for
# >    outputs that are probabilities; its derivative is at most 1/4, so hidden layers use
# >    ReLU or GELU (section 1). (2.1.1's "LSTM … 解决了RNN的梯度消失和梯度爆炸问题" repeats
# >    chapter 1's erratum 4: the LSTM eases vanishing gradients, not exploding ones.)
# > 4. **`002` 2.1.2 and 3.1.2 深度学习优化算法**, SGD: the loops visit `for sample in samples` in
# >    the same order every epoch. SGD needs a random order (shuffle every epoch): on MR's
# >    file order, one epoch ends predicting "negative" for nearly everything (section 2.3).
# >    2.1.2's momentum pseudo-code, `def momentum gradient_descent(...)`, is a syntax error
# >    (3.1.2 fixes the name); its rule is right and is Keras' (section 3.2).
# > 5. **`002` 2.1.2, "自适应梯度算法（Adaptive Gradient Algorithm，简称AGA）"**: the method is AdaGrad
# >    (Duchi et al. 2011), and it keeps a per-weight sum of squared gradients. The seed's
# >    `learning_rate * delta / (1 + alpha * epoch)` (with `alpha` never defined) is
# >    inverse-time learning-rate decay, the same for every weight; section 3.4 shows it
# >    equals SGD with Keras' `InverseTimeDecay(staircase=True)`. The 3.1.2 version is
# >    different and also wrong: it applies the learning rate twice (SGD with rate $\eta^2$)
# >    and computes a `v` it never uses.
# > 6. **`002` 2.1.2 and 3.1.2, Adam优化器**: `m_hat = m / (1 - beta1 ** epoch)` with `epoch`
# >    starting at 0 divides by zero on every update of the first epoch, and all weights
# >    become `nan` (section 3.3); the correction must count updates from $t = 1$, not epochs.
# >    `epsilon` is never defined.
# > 7. **`002` 2.1.3 and 3.1.3 深度学习框架介绍**, TensorFlow example: `tf.Session`,
# >    `tf.placeholder`, `tf.layers.dense` and `tf.train.AdamOptimizer` do not exist in
# >    TensorFlow 2 (AttributeError, section 6.1). Even under TensorFlow 1 the program fails:
# >    it never runs `tf.global_variables_initializer()` (FailedPreconditionError, reproduced
# >    with `tf.compat.v1`), and it trains for a single step.
# > 8. **`002` 2.1.3 and 3.1.3**, Keras "可以在TensorFlow、Theano、Microsoft Cognitive Toolkit等后端运行":
# >    Theano and CNTK support ended with Keras 2.3 (2019); Keras 3 runs on TensorFlow, JAX and
# >    PyTorch. `Dense(..., input_shape=...)` is deprecated in favour of `keras.Input`
# >    (section 6.1). The example also passes the test set as `validation_data` and then
# >    reports it as the test accuracy; validation data comes from the training set.
