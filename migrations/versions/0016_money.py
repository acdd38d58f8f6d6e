"""money pledges to priced needs, their installments, spending reports, fundraisers

Revision ID: 0016_money
Revises: 0015_reports
Create Date: 2026-12-06 19:00:05

A need may carry a cost (need_costs: an amount in minor units and its currency). A donor
collective pledges money to it, once or monthly (money_pledges), one row per month expected
(money_installments), which the group confirms received; the group reports what the money
bought (money_spending, a receipt photo re-encoded without metadata). A group's payment details
(payment_details) are shown to a collective whose pledge a coordinator confirmed. A fundraiser
is a collective's public page for a set of needs (fundraisers, fundraiser_needs). aidmatch
never holds, moves or processes money: these tables record promises, receipts and results.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016_money"
down_revision = "0015_reports"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "fundraisers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(title) > 0", name=op.f("ck_fundraisers_title_not_empty")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_fundraisers_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_fundraisers_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fundraisers")),
        sa.UniqueConstraint("slug", name=op.f("uq_fundraisers_slug")),
    )
    with op.batch_alter_table("fundraisers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fundraisers_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "payment_details",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=False),
        sa.Column("card", sa.String(length=19), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "iban <> '' OR card <> '' OR link <> ''",
            name=op.f("ck_payment_details_some_way_to_pay"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_payment_details_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_payment_details_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_details")),
        sa.UniqueConstraint("organization_id", name=op.f("uq_payment_details_organization_id")),
    )
    op.create_table(
        "fundraiser_needs",
        sa.Column("fundraiser_id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["fundraiser_id"],
            ["fundraisers.id"],
            name=op.f("fk_fundraiser_needs_fundraiser_id_fundraisers"),
        ),
        sa.ForeignKeyConstraint(
            ["need_id"], ["needs.id"], name=op.f("fk_fundraiser_needs_need_id_needs")
        ),
        sa.PrimaryKeyConstraint("fundraiser_id", "need_id", name=op.f("pk_fundraiser_needs")),
    )
    with op.batch_alter_table("fundraiser_needs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fundraiser_needs_need_id"), ["need_id"], unique=False)

    op.create_table(
        "money_pledges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column(
            "currency",
            sa.Enum(
                "UAH",
                "EUR",
                "PLN",
                "USD",
                name="currency",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "cadence",
            sa.Enum("once", "monthly", name="cadence", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("first_due", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "confirmed",
                "rejected",
                "cancelled",
                name="pledge_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "cadence = 'monthly' OR months = 1", name=op.f("ck_money_pledges_once_is_one_month")
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_money_pledges_amount_positive")),
        sa.CheckConstraint(
            "months >= 1 AND months <= 24", name=op.f("ck_money_pledges_months_in_range")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_money_pledges_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_money_pledges_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["need_id"], ["needs.id"], name=op.f("fk_money_pledges_need_id_needs")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_money_pledges_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_money_pledges")),
    )
    with op.batch_alter_table("money_pledges", schema=None) as batch_op:
        batch_op.create_index(
            "ix_money_pledges_need_id_status", ["need_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_money_pledges_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "money_spending",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column(
            "currency",
            sa.Enum(
                "UAH",
                "EUR",
                "PLN",
                "USD",
                name="currency",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("spent_on", sa.Date(), nullable=False),
        sa.Column("photo", sa.LargeBinary(), nullable=True),
        sa.Column("photo_width", sa.Integer(), nullable=True),
        sa.Column("photo_height", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_money_spending_amount_positive")),
        sa.CheckConstraint("length(items) > 0", name=op.f("ck_money_spending_items_not_empty")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_money_spending_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["need_id"], ["needs.id"], name=op.f("fk_money_spending_need_id_needs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_money_spending")),
    )
    with op.batch_alter_table("money_spending", schema=None) as batch_op:
        batch_op.create_index(
            "ix_money_spending_need_id_created_at", ["need_id", "created_at"], unique=False
        )

    op.create_table(
        "need_costs",
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column(
            "currency",
            sa.Enum(
                "UAH",
                "EUR",
                "PLN",
                "USD",
                name="currency",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_need_costs_amount_positive")),
        sa.ForeignKeyConstraint(
            ["need_id"], ["needs.id"], name=op.f("fk_need_costs_need_id_needs")
        ),
        sa.PrimaryKeyConstraint("need_id", name=op.f("pk_need_costs")),
    )
    op.create_table(
        "money_installments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount_expected_minor", sa.BigInteger(), nullable=False),
        sa.Column("amount_received_minor", sa.BigInteger(), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("late_flagged_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(received_at IS NULL AND amount_received_minor IS NULL) OR (received_at IS NOT NULL AND amount_received_minor > 0)",
            name=op.f("ck_money_installments_received_with_amount"),
        ),
        sa.CheckConstraint(
            "amount_expected_minor > 0", name=op.f("ck_money_installments_expected_positive")
        ),
        sa.CheckConstraint("number >= 1", name=op.f("ck_money_installments_number_positive")),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"],
            ["users.id"],
            name=op.f("fk_money_installments_confirmed_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["pledge_id"],
            ["money_pledges.id"],
            name=op.f("fk_money_installments_pledge_id_money_pledges"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_money_installments")),
        sa.UniqueConstraint("pledge_id", "number", name="one_per_month"),
    )
    with op.batch_alter_table("money_installments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_money_installments_due_on_received_at", ["due_on", "received_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("money_installments", schema=None) as batch_op:
        batch_op.drop_index("ix_money_installments_due_on_received_at")

    op.drop_table("money_installments")
    op.drop_table("need_costs")
    with op.batch_alter_table("money_spending", schema=None) as batch_op:
        batch_op.drop_index("ix_money_spending_need_id_created_at")

    op.drop_table("money_spending")
    with op.batch_alter_table("money_pledges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_money_pledges_organization_id"))
        batch_op.drop_index("ix_money_pledges_need_id_status")

    op.drop_table("money_pledges")
    with op.batch_alter_table("fundraiser_needs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fundraiser_needs_need_id"))

    op.drop_table("fundraiser_needs")
    op.drop_table("payment_details")
    with op.batch_alter_table("fundraisers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fundraisers_organization_id"))

    op.drop_table("fundraisers")
