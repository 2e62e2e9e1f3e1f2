"""certificate allowances and rewards

allowance_policy (versions per org unit, inherited down the tree), allowance_award (a level earned, once per
worker and level), allowance_departure (leave dates), allowance_closing and allowance_line (the months an office
closed, and their payments; one per worker and payment slot). New tables only: nothing existing changes.

Revision ID: a17c0a11e0a1
Revises: 189293d79c37
Create Date: 2026-12-08 03:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a17c0a11e0a1'
down_revision = '189293d79c37'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('allowance_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.Column('monthly_assistant', sa.Integer(), nullable=False),
    sa.Column('monthly_intermediate', sa.Integer(), nullable=False),
    sa.Column('monthly_senior', sa.Integer(), nullable=False),
    sa.Column('reward_assistant', sa.Integer(), nullable=False),
    sa.Column('reward_intermediate', sa.Integer(), nullable=False),
    sa.Column('reward_senior', sa.Integer(), nullable=False),
    sa.Column('upgrade_reward', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("upgrade_reward IN ('full','difference')", name=op.f('ck_allowance_policy_upgrade_reward')),
    sa.CheckConstraint('monthly_assistant >= 0 AND monthly_intermediate >= 0 AND monthly_senior >= 0 '
                       'AND reward_assistant >= 0 AND reward_intermediate >= 0 AND reward_senior >= 0',
                       name=op.f('ck_allowance_policy_amounts_not_negative')),
    sa.CheckConstraint('effective_to IS NULL OR effective_to >= effective_from',
                       name=op.f('ck_allowance_policy_dates_in_order')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_allowance_policy_created_by_id_user')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], name=op.f('fk_allowance_policy_org_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allowance_policy')),
    sa.UniqueConstraint('org_unit_id', 'effective_from', name='uq_allowance_policy_unit_from')
    )
    with op.batch_alter_table('allowance_policy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_allowance_policy_org_unit_id'), ['org_unit_id'], unique=False)

    op.create_table('allowance_award',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('earned_on', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('result_id', sa.Integer(), nullable=True),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("level IN ('assistant','intermediate','senior')", name=op.f('ck_allowance_award_level')),
    sa.CheckConstraint("source IN ('result','office')", name=op.f('ck_allowance_award_source')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_allowance_award_recorded_by_id_user')),
    sa.ForeignKeyConstraint(['result_id'], ['real_exam_result.id'],
                            name=op.f('fk_allowance_award_result_id_real_exam_result')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_allowance_award_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allowance_award')),
    sa.UniqueConstraint('user_id', 'level', name='uq_allowance_award_user_level')
    )
    with op.batch_alter_table('allowance_award', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_allowance_award_user_id'), ['user_id'], unique=False)

    op.create_table('allowance_departure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('left_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_allowance_departure_recorded_by_id_user')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_allowance_departure_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allowance_departure')),
    sa.UniqueConstraint('user_id', name=op.f('uq_allowance_departure_user_id'))
    )

    op.create_table('allowance_closing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['closed_by_id'], ['user.id'], name=op.f('fk_allowance_closing_closed_by_id_user')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], name=op.f('fk_allowance_closing_org_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allowance_closing')),
    sa.UniqueConstraint('org_unit_id', 'month', name='uq_allowance_closing_unit_month')
    )
    with op.batch_alter_table('allowance_closing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_allowance_closing_org_unit_id'), ['org_unit_id'], unique=False)

    op.create_table('allowance_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('closing_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('slot', sa.String(length=40), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=True),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('corrects', sa.Date(), nullable=True),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=True),
    sa.Column('award_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('monthly','adjustment','reward')", name=op.f('ck_allowance_line_kind')),
    sa.CheckConstraint("level IS NULL OR level IN ('assistant','intermediate','senior')",
                       name=op.f('ck_allowance_line_level')),
    sa.ForeignKeyConstraint(['award_id'], ['allowance_award.id'],
                            name=op.f('fk_allowance_line_award_id_allowance_award')),
    sa.ForeignKeyConstraint(['closing_id'], ['allowance_closing.id'],
                            name=op.f('fk_allowance_line_closing_id_allowance_closing')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], name=op.f('fk_allowance_line_org_unit_id_org_unit')),
    sa.ForeignKeyConstraint(['policy_id'], ['allowance_policy.id'],
                            name=op.f('fk_allowance_line_policy_id_allowance_policy')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_allowance_line_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allowance_line')),
    sa.UniqueConstraint('user_id', 'slot', name='uq_allowance_line_user_slot')
    )
    with op.batch_alter_table('allowance_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_allowance_line_closing_id'), ['closing_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_allowance_line_month'), ['month'], unique=False)
        batch_op.create_index(batch_op.f('ix_allowance_line_user_id'), ['user_id'], unique=False)


def downgrade():
    op.drop_table('allowance_line')
    op.drop_table('allowance_closing')
    op.drop_table('allowance_departure')
    op.drop_table('allowance_award')
    op.drop_table('allowance_policy')
