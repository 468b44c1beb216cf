"""Review rules (AML8xx): risky changes between a base configuration and the one under review.

They run only inside ``amlforge review``, which lints the base first and makes it available to
them (:func:`amlforge.policies.review._context.reviewing`); in ``amlforge lint`` they find nothing.
"""
