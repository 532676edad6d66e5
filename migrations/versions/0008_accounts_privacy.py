"""accounts and privacy: password-reset links, pseudonymised former learners

Revision ID: 0008_accounts_privacy
Revises: 0007_api_tokens
Create Date: 2026-11-22 09:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_accounts_privacy'
down_revision = '0007_api_tokens'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('password_reset_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_password_reset_link_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_password_reset_link_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_reset_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_password_reset_link_token_hash'))
    )
    with op.batch_alter_table('password_reset_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_reset_link_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pseudonymised_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('pseudonymised_at')

    with op.batch_alter_table('password_reset_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_reset_link_user_id'))

    op.drop_table('password_reset_link')
