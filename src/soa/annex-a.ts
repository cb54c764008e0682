/**
 * The Annex A controls of ISO/IEC 42001:2023, in the standard's order: the catalogue a risk
 * treatment is compared against (6.1.3) and the rows of the Statement of Applicability.
 * Workflow-safe.
 */
export interface AnnexAControl {
  id: string;
  title: string;
}

export const ANNEX_A: readonly AnnexAControl[] = [
  { id: 'A.2.2', title: 'AI policy' },
  { id: 'A.2.3', title: 'Alignment with other organizational policies' },
  { id: 'A.2.4', title: 'Review of the AI policy' },
  { id: 'A.3.2', title: 'AI roles and responsibilities' },
  { id: 'A.3.3', title: 'Reporting of concerns' },
  { id: 'A.4.2', title: 'Resource documentation' },
  { id: 'A.4.3', title: 'Data resources' },
  { id: 'A.4.4', title: 'Tooling resources' },
  { id: 'A.4.5', title: 'System and computing resources' },
  { id: 'A.4.6', title: 'Human resources' },
  { id: 'A.5.2', title: 'AI system impact assessment process' },
  { id: 'A.5.3', title: 'Documentation of AI system impact assessments' },
  { id: 'A.5.4', title: 'Assessing AI system impact on individuals or groups of individuals' },
  { id: 'A.5.5', title: 'Assessing societal impacts of AI systems' },
  { id: 'A.6.1.2', title: 'Objectives for responsible development of AI system' },
  { id: 'A.6.1.3', title: 'Processes for responsible AI system design and development' },
  { id: 'A.6.2.2', title: 'AI system requirements and specification' },
  { id: 'A.6.2.3', title: 'Documentation of AI system design and development' },
  { id: 'A.6.2.4', title: 'AI system verification and validation' },
  { id: 'A.6.2.5', title: 'AI system deployment' },
  { id: 'A.6.2.6', title: 'AI system operation and monitoring' },
  { id: 'A.6.2.7', title: 'AI system technical documentation' },
  { id: 'A.6.2.8', title: 'AI system recording of event logs' },
  { id: 'A.7.2', title: 'Data for development and enhancement of AI system' },
  { id: 'A.7.3', title: 'Acquisition of data' },
  { id: 'A.7.4', title: 'Quality of data for AI systems' },
  { id: 'A.7.5', title: 'Data provenance' },
  { id: 'A.7.6', title: 'Data preparation' },
  { id: 'A.8.2', title: 'System documentation and information for users' },
  { id: 'A.8.3', title: 'External reporting' },
  { id: 'A.8.4', title: 'Communication of incidents' },
  { id: 'A.8.5', title: 'Information for interested parties' },
  { id: 'A.9.2', title: 'Processes for responsible use of AI systems' },
  { id: 'A.9.3', title: 'Objectives for responsible use of AI system' },
  { id: 'A.9.4', title: 'Intended use of the AI system' },
  { id: 'A.10.2', title: 'Allocating responsibilities' },
  { id: 'A.10.3', title: 'Suppliers' },
  { id: 'A.10.4', title: 'Customers' },
];

export const ANNEX_A_IDS: readonly string[] = ANNEX_A.map((c) => c.id);

export function isAnnexAControl(id: string): boolean {
  return ANNEX_A_IDS.includes(id);
}

/** An Annex A control's title; undefined for an id that is not one. */
export function annexATitle(id: string): string | undefined {
  return ANNEX_A.find((c) => c.id === id)?.title;
}
