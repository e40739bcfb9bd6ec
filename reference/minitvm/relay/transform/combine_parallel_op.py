"""Combining parallel operators (TVM ``src/relay/transforms/combine_parallel_op.cc``).

Several calls of one operator on the same input (the three projections of an attention block,
the branches of an Inception block) become one call on combined weights, whose result is cut
back into the branches' results. The elementwise and broadcast operators that follow each
call are combined too, level by level, while every branch has the same operator with
compatible operands at that level.

1. ``BranchGroupFinder`` walks the program once. A *root* is the input of a supported call of
   the operator; each such call starts a *branch*, extended through the operator calls that
   follow it as long as the last node has exactly one user and that user is elementwise or
   broadcast. Branches from one root whose first calls are compatible form a *group*.
2. For each group of at least ``min_num_branches`` branches, ``ParallelOpCombiner`` builds the
   combined call and then, level by level up to the shortest branch, the combined follower,
   stopping at the first level where the branches disagree. The last combined node is cut
   into one piece per branch, which replaces that branch's last node.
3. The replacements are substituted in one walk; a replacement's own operands are substituted
   too, so nested groups compose.

Subclasses say what is supported and compatible and how to combine (``combine_parallel_dense``,
``combine_parallel_conv2d``). A user that is a tuple is not counted as a user (as in TVM),
which only means the node it reads stays computed as well. Unlike TVM, a follower is combined
only when the combination computes the same values; see ``follower_ok``.
"""

from __future__ import annotations

from minitvm.ir.expr import GlobalVar
from minitvm.ir.op import Op, OpPattern
from minitvm.relay.expr import Call, Expr
from minitvm.relay.expr_functor import children, iter_post_order, rebuild

__all__ = ["Branch", "BranchGroupFinder", "Group", "ParallelOpCombiner", "substitute"]

Branch = list[Call]
"""A call of the operator followed by the elementwise/broadcast calls that use it in turn."""
Group = list[Branch]


class BranchGroupFinder:
    """Find the groups of parallel branches (TVM's ``BranchGroupFinder``)."""

    def __init__(self, combiner: ParallelOpCombiner) -> None:
        self.combiner = combiner
        self.roots: dict[Expr, None] = {}
        """The inputs of supported calls, in the order they were first seen."""
        self.users: dict[Expr, list[Call]] = {}
        """The calls using each node (a supported call counts as a user of its input only)."""

    def find(self, expr: Expr) -> list[Group]:
        op = self.combiner.op
        for node in iter_post_order(expr):
            if not isinstance(node, Call):
                continue
            if node.op is op and self.combiner.is_supported_op(node):
                root = node.args[0]
                self.roots.setdefault(root, None)
                self.users.setdefault(root, []).append(node)
            else:
                for arg in node.args:
                    self.users.setdefault(arg, []).append(node)
        groups: list[Group] = []
        for root in self.roots:
            first = len(groups)
            for call in self.users[root]:
                if call.op is not op or not self.combiner.is_supported_op(call):
                    continue
                branch = self._branch(call)
                for group in groups[first:]:
                    if self.combiner.can_ops_be_combined(call, group[0][0]):
                        group.append(branch)
                        break
                else:
                    groups.append([branch])
        return groups

    def _branch(self, call: Call) -> Branch:
        branch = [call]
        users = self.users.get(call)
        while users is not None and len(users) == 1:
            user = users[0]
            if not isinstance(user.op, Op) or user.op.definition.pattern > OpPattern.BROADCAST:
                break
            branch.append(user)
            users = self.users.get(user)
        return branch


class ParallelOpCombiner:
    """Combine groups of parallel calls of ``op_name`` (TVM's ``ParallelOpCombiner``)."""

    def __init__(self, op_name: str, min_num_branches: int) -> None:
        self.op = Op.get(op_name)
        self.min_num_branches = min_num_branches
        self.subst: dict[Expr, Expr] = {}

    # --- what subclasses define --------------------------------------------------------

    def is_supported_op(self, call: Call) -> bool:
        raise NotImplementedError

    def can_ops_be_combined(self, a: Call, b: Call) -> bool:
        raise NotImplementedError

    def make_combined_op(self, branches: Group) -> Expr:
        raise NotImplementedError

    def is_arg_compatible(self, a: Call, b: Call, index: int) -> bool:
        raise NotImplementedError

    def follower_ok(self, branches: Group, depth: int, parent_index: int) -> bool:
        """Whether combining level ``depth`` keeps every branch's values (checked after TVM's
        own level checks)."""
        raise NotImplementedError

    def make_combined_call_from_following_ops(
        self, data: Expr, branches: Group, depth: int, parent_index: int
    ) -> Expr:
        raise NotImplementedError

    def update_group_output(self, data: Expr, branches: Group, depth: int) -> None:
        """Record in ``subst`` the piece of ``data`` replacing each branch's node at ``depth``."""
        raise NotImplementedError

    # --- the algorithm -------------------------------------------------------------------

    def combine(self, expr: Expr) -> Expr:
        for group in BranchGroupFinder(self).find(expr):
            if len(group) >= self.min_num_branches:
                self._combine_branches(group)
        return substitute(expr, self.subst) if self.subst else expr

    def _combine_branches(self, branches: Group) -> None:
        combined = self.make_combined_op(branches)
        depth = min(len(b) for b in branches)
        level = 1
        while level < depth:
            follower, parent = branches[0][level], branches[0][level - 1]
            parent_index = next(i for i, a in enumerate(follower.args) if a is parent)
            if not self._check_level(branches, level, parent_index):
                break
            if not self.follower_ok(branches, level, parent_index):
                break
            combined = self.make_combined_call_from_following_ops(
                combined, branches, level, parent_index
            )
            level += 1
        self.update_group_output(combined, branches, level - 1)

    def _check_level(self, branches: Group, depth: int, parent_index: int) -> bool:
        """TVM's ``CheckLevel``: every branch has the same operator and attributes at
        ``depth``, uses its previous node in the same position, and has compatible other
        operands."""
        call = branches[0][depth]
        for branch in branches[1:]:
            other = branch[depth]
            if other.op is not call.op or other.attrs != call.attrs:
                return False
            if len(other.args) != len(call.args):
                return False
            if other.args[parent_index] is not branch[depth - 1]:
                return False
            for i in range(len(call.args)):
                if i != parent_index and not self.is_arg_compatible(call, other, i):
                    return False
        return True


def substitute(expr: Expr, subst: dict[Expr, Expr]) -> Expr:
    """``expr`` with each key of ``subst`` replaced by its value, itself substituted (TVM's
    ``ExprSubst``); an explicit stack, memoized, so shared nodes stay shared."""
    memo: dict[Expr, Expr] = {}
    stack: list[tuple[Expr, bool]] = [(expr, False)]
    while stack:
        node, ready = stack.pop()
        if node in memo:
            continue
        target = subst.get(node)
        if target is not None:
            if target in memo:
                memo[node] = memo[target]
            else:
                stack.append((node, False))
                stack.append((target, False))
            continue
        if ready or isinstance(node, Op | GlobalVar):
            memo[node] = rebuild(node, memo.__getitem__)
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in reversed(children(node)) if c not in memo)
    return memo[expr]
