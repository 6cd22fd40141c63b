import { Empty } from '../../components/common.js';

/** The fine-tuning wizard's place in the navigation (DESIGN 9); the service reserves training.* already. */
export function TrainingScreen() {
  return (
    <div data-testid="screen-training">
      <h1 className="screen-title">Training</h1>
      <Empty title="Fine-tuning is coming with the training issue">
        <p>Here you will fine-tune a LoRA on your own clips: preprocessing, supervised fine-tuning, then masked-speech DPO, with runs that resume after a crash.</p>
      </Empty>
    </div>
  );
}
