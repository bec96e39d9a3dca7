"""company profiles and their factories

Revision ID: lspro_0002
Revises: lspro_0001
Create Date: 2026-12-06 18:00:00
"""

import sqlalchemy as sa
from alembic import op

import engine.persistence.db

revision = 'lspro_0002'
down_revision = 'lspro_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'company_profile',
        sa.Column('company', sa.String(length=255), nullable=False),
        sa.Column('legal_name', sa.String(length=255), nullable=False),
        sa.Column('npwp', sa.String(length=16), nullable=False),
        sa.Column('nib', sa.String(length=13), nullable=False),
        sa.Column('address', sa.String(length=1000), nullable=False),
        sa.Column('contact_name', sa.String(length=255), nullable=False),
        sa.Column('contact_phone', sa.String(length=32), nullable=False),
        sa.Column('contact_email', sa.String(length=255), nullable=False),
        sa.Column('makloon_name', sa.String(length=255), nullable=True),
        sa.Column('makloon_address', sa.String(length=1000), nullable=True),
        sa.Column('updated_at', engine.persistence.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint('company', name=op.f('pk_company_profile')),
    )
    op.create_table(
        'company_factory',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('company', sa.String(length=255), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('address', sa.String(length=1000), nullable=False),
        sa.ForeignKeyConstraint(['company'], ['company_profile.company'],
                                name=op.f('fk_company_factory_company_company_profile'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_company_factory')),
    )
    with op.batch_alter_table('company_factory', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_company_factory_company'), ['company'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('company_factory', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_company_factory_company'))
    op.drop_table('company_factory')
    op.drop_table('company_profile')
