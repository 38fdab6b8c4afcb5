import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import org.pydl.io.ModelFile;
import org.pydl.io.Npy;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.nn.Sequential;
import org.pydl.ops.Ops;

/**
 * Loads a pydl model file saved from Python and predicts classes for images stored as .npy, with only pydl.jar on
 * the classpath:
 *
 *   java -cp pydl.jar examples/java/PredictDigits.java mnist.pydl test_images.npy
 *
 * Prints one predicted class per line.
 */
public class PredictDigits {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: PredictDigits <model.pydl> <images.npy>");
            System.exit(2);
        }
        Sequential model = ModelFile.load(Paths.get(args[0]));
        NDArray images;
        try (InputStream in = Files.newInputStream(Path.of(args[1]))) {
            Npy.Header h = Npy.readHeader(in);
            images = NDArray.empty(DType.of(h.descr()), h.shape());
            Npy.readData(in, h, images.buffer());
        }
        NDArray probabilities = model.output(images, 256);
        int[] classes = Ops.argmax(probabilities, -1).toIntArray();
        StringBuilder sb = new StringBuilder();
        for (int c : classes) sb.append(c).append('\n');
        System.out.print(sb);
    }
}
